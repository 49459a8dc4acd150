package dev.usethread.internal;

import dev.usethread.CancelEvent;
import dev.usethread.CancelledSignal;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A region of one thread that can be cancelled from any thread: a run of a {@code UseThread}, or a
 * deadline. It is created anywhere, {@link #enter() entered} and {@link #exit() exited} by the
 * thread it guards. Once cancelled it stays cancelled (sticky): while the thread is inside it, every
 * poll throws {@link CancelledSignal} again. Intrusive scopes also interrupt the thread and are
 * honoured by woven polls; cooperative ones only by explicit checkpoints.
 */
public final class CancelScope implements CancelEvent {
    /** Created on first use: loading the logging backend costs milliseconds of the agent's start-up. */
    private static final class Log {
        static final System.Logger LOG = System.getLogger("dev.usethread");
    }

    private final String signalMessage;
    private final boolean intrusive;
    private final Object lock = new Object();

    private volatile boolean cancelled;
    private volatile long cancelRequestedNanos;
    private volatile CancelledSignal firstSignal;
    // Guarded by lock:
    private ThreadState state;
    private CancelScope parent;
    private boolean entered;
    private boolean active;
    private boolean counted;
    private boolean interruptedThread;
    /** The thread's interrupt status was already set when this scope interrupted it: not ours to clear. */
    private boolean foreignInterrupt;
    private List<Runnable> onCancel = new ArrayList<>();

    public CancelScope(String description, boolean intrusive) {
        this.signalMessage = description + " was cancelled";
        this.intrusive = intrusive;
    }

    public boolean intrusive() {
        return intrusive;
    }

    CancelScope parent() {
        return parent;
    }

    /** Enters this scope on the current thread. A scope is entered once. */
    public void enter() {
        ThreadState current = ThreadState.current();
        boolean armed = false;
        synchronized (lock) {
            if (entered) {
                throw new IllegalStateException("scope was already entered: " + signalMessage);
            }
            entered = true;
            active = true;
            state = current;
            parent = current.top;
            current.top = this;
            if (cancelled) {
                int cancellation = count();
                armed = intrusive;
                if (intrusive) {
                    interrupt(current);
                    if (cancellation != 0) {
                        Poll.cancellationInterrupted(current, cancellation);
                    }
                }
            }
        }
        if (armed) {
            Poll.ensureArming();
        }
    }

    // Holds lock.
    private void interrupt(ThreadState target) {
        foreignInterrupt = target.thread.isInterrupted();
        interruptedThread = true;
        target.interruptForCancellation();
    }

    static final int OWN_INTERRUPT = 1;
    static final int FOREIGN_INTERRUPT = 2;

    /**
     * {@link #OWN_INTERRUPT} if this scope's cancellation interrupted (or is to interrupt) its thread,
     * {@link #FOREIGN_INTERRUPT} if the thread's interrupt status was set by someone else before
     * that, else 0.
     */
    int interruptOwnership() {
        synchronized (lock) {
            return !interruptedThread ? 0 : foreignInterrupt ? FOREIGN_INTERRUPT : OWN_INTERRUPT;
        }
    }

    /**
     * Leaves this scope on the thread that entered it; polls stop throwing for it. If this scope
     * interrupted the thread, the interrupt status is cleared, so the thread can carry on, unless the
     * status was already set by someone else when the cancellation came (a caller's own interrupt,
     * an executor's {@code shutdownNow}): that interrupt is kept.
     */
    public void exit() {
        ThreadState current = ThreadState.current();
        synchronized (lock) {
            if (!active || state != current || current.top != this) {
                throw new IllegalStateException("scope is not the innermost active scope of this thread");
            }
            active = false;
            current.top = parent;
            if (counted) {
                counted = false;
                Poll.scopeCleared(current, intrusive);
            }
            current.scopeExited();
            if (interruptedThread) {
                current.clearDeferredInterrupt();
                Thread.interrupted();
                if (foreignInterrupt) {
                    current.thread.interrupt();
                }
            }
        }
    }

    /**
     * Requests cancellation. Returns true if this call was the one that requested it. Runs the
     * {@link #onCancel} actions on the calling thread, outside any lock.
     */
    public boolean cancel() {
        List<Runnable> actions;
        boolean armed = false;
        synchronized (lock) {
            if (cancelled) {
                return false;
            }
            cancelRequestedNanos = System.nanoTime();
            cancelled = true;
            if (active) {
                int cancellation = count();
                armed = intrusive;
                if (intrusive) {
                    interrupt(state);
                    if (cancellation != 0) {
                        Poll.cancellationInterrupted(state, cancellation);
                    }
                }
            }
            actions = onCancel;
            onCancel = null;
        }
        if (armed) {
            Poll.ensureArming(); // after the interrupt: the cancellation does not wait for a thread start
        }
        for (Runnable action : actions) {
            runAction(action);
        }
        return true;
    }

    // Holds lock; before the thread is interrupted, so that it wakes up to an armed poll. The
    // cancellation's number if the thread was newly cancelled (for Poll.cancellationInterrupted), else 0.
    private int count() {
        counted = true;
        return Poll.scopeCancelled(state, intrusive);
    }

    /** {@link System#nanoTime()} when cancellation was requested, or 0. */
    public long cancelRequestedNanos() {
        return cancelRequestedNanos;
    }

    /** True if a scope that encloses this one (on its thread) was cancelled: its signal wins. */
    public boolean enclosingScopeCancelled() {
        CancelScope outer;
        synchronized (lock) {
            outer = parent;
        }
        for (CancelScope s = outer; s != null; s = s.parent) {
            if (s.isSet()) {
                return true;
            }
        }
        return false;
    }

    /** True while the thread is inside this scope. */
    public boolean isActive() {
        synchronized (lock) {
            return active;
        }
    }

    @Override
    public boolean isSet() {
        return cancelled;
    }

    @Override
    public void throwIfSet() {
        if (!cancelled) {
            return;
        }
        ThreadState current = ThreadState.peek();
        boolean ownShieldedThread;
        synchronized (lock) {
            ownShieldedThread = active && state == current && current.shieldDepth > 0;
        }
        if (!ownShieldedThread) {
            CancelledSignal signal = newSignal();
            if (current != null && current.top != null) {
                current.signalThrownByRuntime(); // cleanup on the way out may finish, as for a poll
            }
            throw signal;
        }
    }

    @Override
    public void onCancel(Runnable action) {
        Objects.requireNonNull(action, "action");
        synchronized (lock) {
            if (!cancelled) {
                onCancel.add(action);
                return;
            }
        }
        runAction(action);
    }

    /**
     * Like {@link #onCancel}, for an action that is removed again ({@link Inheritance}: a task running
     * under this scope on a pool thread registers while it runs, so forking many tasks keeps no
     * action per task). Returns false, keeping nothing, if this scope is already cancelled.
     */
    boolean addRemovableAction(Runnable action) {
        synchronized (lock) {
            if (cancelled) {
                return false;
            }
            onCancel.add(action);
            return true;
        }
    }

    /** Removes an action added by {@link #addRemovableAction}; scans from the end (last added, first gone). */
    void removeAction(Runnable action) {
        synchronized (lock) {
            if (onCancel == null) {
                return;
            }
            for (int i = onCancel.size() - 1; i >= 0; i--) {
                if (onCancel.get(i) == action) {
                    onCancel.remove(i);
                    return;
                }
            }
        }
    }

    /** The message of this scope's signals ("... was cancelled"). */
    String signalMessage() {
        return signalMessage;
    }

    /**
     * What a job's callback receives: this scope's {@link CancelEvent} and nothing else, so code that
     * is handed it cannot enter, exit or cancel the scope.
     */
    public CancelEvent event() {
        return event;
    }

    private final CancelEvent event = new CancelEvent() {
        @Override
        public boolean isSet() {
            return CancelScope.this.isSet();
        }

        @Override
        public void throwIfSet() {
            CancelScope.this.throwIfSet();
        }

        @Override
        public void onCancel(Runnable action) {
            CancelScope.this.onCancel(action);
        }

        @Override
        public String toString() {
            return "CancelEvent[" + signalMessage + ", set=" + isSet() + "]";
        }
    };

    /** A signal whose stack trace starts where the thread was stopped, not in usethread's internals. */
    CancelledSignal newSignal() {
        CancelledSignal signal = new CancelledSignal(signalMessage);
        return trimmed(signal, signal.getStackTrace());
    }

    /**
     * For a poll: a new signal, its stack trace (innermost first) and what protected code that trace
     * shows ({@link ProtectedCode}); the caller throws it ({@link #trimmed}) only outside such code.
     * The signal's own trace shows it, which saves a separate stack walk (interpreted code, on the
     * cancellation's path); only a trace that may have been cut off at the JVM's depth limit
     * (-XX:MaxJavaStackTraceDepth) needs a full walk for a static initializer below it.
     */
    PollSignal pollSignal() {
        CancelledSignal signal = new CancelledSignal(signalMessage);
        StackTraceElement[] frames = signal.getStackTrace();
        int protectedCode = ProtectedCode.of(frames);
        if (protectedCode != ProtectedCode.INITIALIZER && !wholeStack(frames) && ThreadState.inStaticInitializer()) {
            protectedCode = ProtectedCode.INITIALIZER;
        }
        return new PollSignal(signal, frames, protectedCode);
    }

    /** What {@link #pollSignal()} found. */
    record PollSignal(CancelledSignal signal, StackTraceElement[] frames, int protectedCode) {
    }

    /**
     * Whether a stack trace certainly holds every frame: shorter than HotSpot's default depth limit
     * (1,024) and ending where threads start (Thread.run or runWith, VirtualThread.run, a main
     * method). A lowered limit cuts traces at an arbitrary frame, which then fails the second test.
     */
    private static boolean wholeStack(StackTraceElement[] frames) {
        if (frames.length == 0 || frames.length >= 1024) {
            return false;
        }
        String bottom = frames[frames.length - 1].getMethodName();
        return bottom.equals("run") || bottom.equals("runWith") || bottom.equals("main");
    }

    /** The signal to throw, its stack trace starting where the thread was stopped. */
    CancelledSignal trimmed(CancelledSignal signal, StackTraceElement[] frames) {
        int first = 0;
        while (first < frames.length - 1 && frames[first].getClassName().startsWith("dev.usethread.internal.")) {
            first++;
        }
        if (first > 0) {
            signal.setStackTrace(java.util.Arrays.copyOfRange(frames, first, frames.length));
        }
        if (firstSignal == null) {
            firstSignal = signal;
        }
        return signal;
    }

    /**
     * The first signal thrown for this scope: its stack shows where the thread was stopped. Later
     * (sticky) signals may come from code that ran while the first one unwound, such as a library's
     * exception handling.
     */
    public CancelledSignal firstSignal() {
        return firstSignal;
    }

    /** Runs an onCancel action shielded: if the cancelling thread is itself cancelled, the action still runs whole. */
    private static void runAction(Runnable action) {
        try (Shield ignored = shield()) {
            action.run();
        } catch (Throwable t) {
            Log.LOG.log(System.Logger.Level.WARNING, "an onCancel action threw; other actions still ran", t);
        }
    }

    /**
     * Starts a region of the current thread where no {@link CancelledSignal} is thrown and no
     * cancellation interrupt arrives; {@link Shield#close()} ends it. Regions nest; each must be
     * closed on its thread, innermost first, once: a shield cannot end anyone else's region.
     */
    public static Shield shield() {
        ThreadState state = ThreadState.current();
        return new Shield(state, state.enterShield());
    }

    /** A shielded region; see {@link #shield()}. */
    public static final class Shield implements AutoCloseable {
        private final ThreadState state;
        private final int depth;
        private boolean closed;

        private Shield(ThreadState state, int depth) {
            this.state = state;
            this.depth = depth;
        }

        /**
         * Ends the region; a cancellation requested meanwhile is delivered at the next poll.
         *
         * @throws IllegalStateException on another thread, twice, or before an inner region ended
         */
        @Override
        public void close() {
            if (closed || ThreadState.peek() != state || !state.exitShield(depth)) {
                throw new IllegalStateException("a shield must be closed once, on its own thread, innermost first");
            }
            closed = true;
        }
    }

    /** True if the current thread is inside a scope whose cancellation was requested. */
    public static boolean currentThreadCancelled() {
        ThreadState state = ThreadState.peek();
        return state != null && state.outermostCancelled(true) != null;
    }
}
