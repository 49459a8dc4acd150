package dev.usethread.internal;

import dev.usethread.CancelledSignal;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The rule that lets cleanup finish while swallowers still lose (docs/HOW-IT-WORKS.md, "Unwinding").
 *
 * <p>The agent weaves {@code Poll.caught(t)} at the start of every exception handler and
 * {@code Poll.thrown(t)} before every {@code athrow}. After a poll throws the signal, this thread is
 * <em>flying</em>; when a woven handler catches the signal (or an exception caused by it), the thread
 * is <em>handling</em> it in that handler's frame F. While handling, a poll does not throw if it
 * runs in a method F called (depth greater than F's, F still on the stack) or in a loop that lies
 * wholly in handler code of F itself ({@code pollInHandler}): that is the {@code finally} block, the
 * handler that rethrows, and what they call. A poll in F's own normal code or in a caller of F means
 * the handler finished without rethrowing: the signal was swallowed, and the poll throws again.
 * When F rethrows, the thread flies again until the next handler catches. Polls outside F's method
 * are checked against the whole stack only now and then (see {@link #letsCleanupGoOn}): a handler
 * that returns without rethrowing is seen within 64 polls of its caller.
 *
 * <p>Two bounds keep swallowers that this cannot see from escaping: polls while flying (only
 * unwoven handlers run code then) throw after {@link #UNWOVEN_NANOS}, and without that grace for
 * the rest of the cancellation once a signal was lost that way; and no chain of cleanup may
 * suppress polls for more than {@link #CLEANUP_NANOS} from the throw that started it; after that the
 * cancellation is sticky without grace until its scope is exited.
 *
 * <p>Owned by one thread; only its own polls and hooks touch it.
 */
final class Unwinding {
    static final long CLEANUP_NANOS =
            TimeUnit.MILLISECONDS.toNanos(Long.getLong("usethread.cleanupMillis", 1000L));
    static final long UNWOVEN_NANOS =
            TimeUnit.MILLISECONDS.toNanos(Long.getLong("usethread.unwovenCleanupMillis", 20L));

    private static final int NONE = 0;
    private static final int FLYING = 1;
    private static final int HANDLING = 2;
    private static final StackWalker WALKER = StackWalker.getInstance();

    private int phase = NONE;
    /** Frames from the bottom of the stack to the handling frame F, F included. */
    private int handlerDepth;
    private String handlerClass;
    private String handlerMethod;
    private long graceStartNanos;
    /** While handling: polls outside F's method are checked against the whole stack this rarely. */
    private int walkEvery = 1;
    private int uncheckedPolls;
    private long flyingSinceNanos;
    private boolean exhausted;
    /** A signal flew through unwoven code and was not seen again: polls while flying throw at once. */
    private boolean unwovenSwallowed;

    /** True when a poll that would throw should let the code go on: it is cleanup. */
    boolean letsCleanupGoOn(boolean inHandlerLoop) {
        if (phase == NONE || exhausted) {
            return false;
        }
        long now = System.nanoTime();
        if (now - graceStartNanos > CLEANUP_NANOS) {
            exhausted = true;
            return false;
        }
        if (phase == FLYING) {
            return !unwovenSwallowed && now - flyingSinceNanos < UNWOVEN_NANOS;
        }
        // A whole-stack walk per poll would make cleanup in deep stacks crawl. A poll in a method other
        // than F's is, unless F has returned, cleanup that F called: only every walkEvery-th of those
        // (doubling up to 64 while they are) is checked, so a handler that returns without rethrowing
        // is caught within 64 polls of its caller. A poll in F's own method is always checked.
        if (!WALKER.walk(POLLING_FRAME).is(handlerClass, handlerMethod) && ++uncheckedPolls < walkEvery) {
            return true;
        }
        uncheckedPolls = 0;
        Frames frames = WALKER.walk(new Frames(handlerDepth));
        boolean goOn = frames.depth > handlerDepth ? frames.handlerIs(handlerClass, handlerMethod)
                : frames.depth == handlerDepth && inHandlerLoop;
        if (goOn) {
            walkEvery = Math.min(64, walkEvery * 2);
        }
        return goOn;
    }

    /** A poll (or the runtime) threw a new signal on this thread: a new chain of cleanup begins. */
    void signalThrown() {
        if (phase == FLYING) {
            unwovenSwallowed = true; // the last signal reached no woven handler, yet code went on polling
        }
        long now = System.nanoTime();
        phase = FLYING;
        flyingSinceNanos = now;
        graceStartNanos = now;
    }

    /** A woven handler caught the signal; the handler's frame is the caller of the hook. */
    void signalCaught() {
        if (phase == NONE) {
            graceStartNanos = System.nanoTime(); // a stored signal thrown again by application code
        }
        Frames frames = WALKER.walk(new Frames(-1));
        walkEvery = 1;
        uncheckedPolls = 0;
        phase = HANDLING;
        handlerDepth = frames.depth;
        handlerClass = frames.topClass;
        handlerMethod = frames.topMethod;
    }

    /** The handling frame (or one it called) throws the signal on: flying again. */
    void signalRethrown() {
        phase = FLYING;
        flyingSinceNanos = System.nanoTime();
    }

    boolean isActive() {
        return phase != NONE;
    }

    boolean isHandling() {
        return phase == HANDLING;
    }

    /** The thread left its last cancelled scope. */
    void reset() {
        phase = NONE;
        exhausted = false;
        unwovenSwallowed = false;
        handlerClass = null;
        handlerMethod = null;
    }

    /** The signal itself, or an exception it caused (a library wrapping it), up to 8 causes deep. */
    static boolean isSignal(Throwable t) {
        for (int i = 0; t != null && i < 8; i++) {
            if (t instanceof CancelledSignal) {
                return true;
            }
            Throwable cause = t.getCause();
            if (cause == t) {
                return false;
            }
            t = cause;
        }
        return false;
    }

    private static final PollingFrame POLLING_FRAME = new PollingFrame();

    /** The first frame outside usethread's own code: a short walk, whatever the stack's depth. */
    private static final class PollingFrame implements Function<Stream<StackWalker.StackFrame>, PollingFrame.Top> {
        record Top(String className, String methodName) {
            boolean is(String c, String m) {
                return methodName.equals(m) && className.equals(c);
            }
        }

        private static final Top NONE = new Top("", "");

        @Override
        public Top apply(Stream<StackWalker.StackFrame> stream) {
            Iterator<StackWalker.StackFrame> it = stream.iterator();
            while (it.hasNext()) {
                StackWalker.StackFrame frame = it.next();
                if (!Frames.isOwnFrame(frame.getClassName())) {
                    return new Top(frame.getClassName(), frame.getMethodName());
                }
            }
            return NONE;
        }
    }

    /**
     * One walk of the current stack: the depth of the first frame outside usethread's own code (the
     * frame that polled, or the handler that called the hook), its method, and the method at a given
     * depth from the bottom. A class, not a lambda: the slow path should not link call sites.
     */
    private static final class Frames implements Function<Stream<StackWalker.StackFrame>, Frames> {
        private final int wantedDepth;
        int depth;
        String topClass;
        String topMethod;
        private final java.util.ArrayList<StackWalker.StackFrame> seen = new java.util.ArrayList<>();

        Frames(int wantedDepth) {
            this.wantedDepth = wantedDepth;
        }

        @Override
        public Frames apply(Stream<StackWalker.StackFrame> stream) {
            Iterator<StackWalker.StackFrame> it = stream.iterator();
            while (it.hasNext()) {
                StackWalker.StackFrame frame = it.next();
                if (topClass == null) {
                    String c = frame.getClassName();
                    if (isOwnFrame(c)) {
                        continue;
                    }
                    topClass = c;
                    topMethod = frame.getMethodName();
                }
                if (wantedDepth >= 0) {
                    seen.add(frame);
                }
                depth++;
            }
            return this;
        }

        /** The poll's and the hooks' own frames, above the frame that polled or handles. */
        private static boolean isOwnFrame(String className) {
            return className.equals("dev.usethread.internal.Poll")
                    || className.equals("dev.usethread.internal.GroupPolls")
                    || className.equals("dev.usethread.internal.ThreadState")
                    || className.equals("dev.usethread.internal.Unwinding")
                    || className.equals("dev.usethread.Cancellation");
        }

        /** Whether the frame at the handler's depth is still the handler's method. */
        boolean handlerIs(String className, String methodName) {
            int index = depth - wantedDepth; // seen holds frames from the top; the bottom is at depth - 1
            if (index < 0 || index >= seen.size()) {
                return false;
            }
            StackWalker.StackFrame frame = seen.get(index);
            return frame.getClassName().equals(className) && frame.getMethodName().equals(methodName);
        }
    }
}
