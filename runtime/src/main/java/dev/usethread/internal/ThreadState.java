package dev.usethread.internal;

import dev.usethread.CancelledSignal;

/** Per-thread cancellation state: the stack of entered scopes and the shield depth. */
final class ThreadState {
    private static final ThreadLocal<ThreadState> CURRENT = new ThreadLocal<>();

    final Thread thread;
    /** Innermost entered scope; written only by the owning thread. */
    CancelScope top;
    /** Nesting depth of shielded regions; written only by the owning thread. */
    volatile int shieldDepth;
    /** Entered intrusive scopes whose cancellation was requested; guarded by Poll's lock. */
    int cancelledIntrusiveScopes;
    /** How often cancelledIntrusiveScopes went from 0 to 1; guarded by Poll's lock. */
    int cancellations;
    /** The cancellation (a value of {@link #cancellations}) whose interrupt was sent; written by its canceller. */
    volatile int interruptedFor;
    /**
     * The arming thread's disarm count when it last armed the groups of this thread's stack (-1:
     * never); while no disarm came since, they are still armed. Arming thread only.
     */
    long armedInEpoch = -1;
    /** An interrupt that arrived inside a shielded region, delivered when the region ends. */
    private boolean deferredInterrupt;
    /**
     * Set when a signal was thrown on this thread, cleared when its last cancelled scope is exited:
     * lets the arming thread tell a thread that swallowed the cancellation's interrupt and waits
     * again from one that is already unwinding.
     */
    volatile boolean signalThrown;
    /** Guards against polls re-entering from code the slow path calls (woven JDK classes). */
    private boolean inSlowPath;
    /** Whether a signal is unwinding this thread and which frame handles it; owner thread only. */
    private final Unwinding unwinding = new Unwinding();

    private ThreadState(Thread thread) {
        this.thread = thread;
    }

    static ThreadState current() {
        ThreadState state = CURRENT.get();
        if (state == null) {
            state = new ThreadState(Thread.currentThread());
            CURRENT.set(state);
        }
        return state;
    }

    static ThreadState peek() {
        return CURRENT.get();
    }

    /**
     * The slow path of a poll on a thread that (probably) has a cancelled scope. Throws the
     * signal unless the thread is inside a shield or code a signal must not cut short
     * ({@link ProtectedCode}), or is running cleanup while a signal unwinds (see {@link Unwinding}).
     */
    static void pollSlow(boolean cooperative, boolean inHandlerLoop) {
        ThreadState state = CURRENT.get();
        if (state == null || state.top == null || state.inSlowPath || state.shieldDepth > 0) {
            return;
        }
        state.inSlowPath = true;
        CancelledSignal signal = null;
        try {
            CancelScope target = state.outermostCancelled(cooperative);
            if (target != null && !state.unwinding.letsCleanupGoOn(inHandlerLoop) && !state.stillInProtectedCode()) {
                CancelScope.PollSignal candidate = target.pollSignal();
                state.protectedChecks++;
                if (!state.waitsFor(candidate.protectedCode())) {
                    signal = target.trimmed(candidate.signal(), candidate.frames());
                    state.unwinding.signalThrown();
                    state.signalThrown = true;
                    state.signalLeaving();
                }
            }
        } finally {
            state.inSlowPath = false;
        }
        if (signal != null) {
            throw signal;
        }
    }

    /** A woven handler of this thread caught {@code t}. */
    static void caught(Throwable t) {
        ThreadState state = CURRENT.get();
        if (state == null || state.top == null || state.inSlowPath) {
            return;
        }
        state.inSlowPath = true;
        try {
            if (state.outermostCancelled(true) != null && Unwinding.isSignal(t)) {
                state.unwinding.signalCaught();
            }
        } finally {
            state.inSlowPath = false;
        }
    }

    /** Woven code of this thread is about to throw {@code t}. */
    static void thrown(Throwable t) {
        ThreadState state = CURRENT.get();
        if (state == null || state.top == null || state.inSlowPath) {
            return;
        }
        state.inSlowPath = true;
        try {
            if (state.unwinding.isHandling() && Unwinding.isSignal(t)) {
                state.unwinding.signalRethrown();
            }
        } finally {
            state.inSlowPath = false;
        }
    }

    /** True while a cancellation signal unwinds this thread (between its throw and its scope's exit). */
    boolean isUnwinding() {
        return unwinding.isActive();
    }

    /** The runtime itself throws a signal on this thread (checkpoint, throwIfSet, emit). */
    void signalThrownByRuntime() {
        unwinding.signalThrown();
        signalThrown = true;
        signalLeaving();
    }

    /** A scope of this thread was exited: once no cancelled scope is left, unwinding is over. */
    void scopeExited() {
        if (outermostCancelled(true) == null) {
            unwinding.reset();
            signalThrown = false;
            protectedRecheckNanos = 0;
            resourceWaitSinceNanos = 0;
            resourcePolls = 0;
            synchronized (this) {
                owedInterrupt = false;
            }
        }
    }

    /**
     * After a poll found this thread inside protected code ({@link ProtectedCode}), the next polls do
     * not look again for a while: each look builds a stack trace, and an initializer that polls
     * millions of times would otherwise run hundreds of times slower. The signal comes at most this
     * late after the protected code returns.
     */
    private static final long PROTECTED_RECHECK_NANOS = 1_000_000L;
    private long protectedRecheckNanos;
    /** What protected code the last look found ({@link ProtectedCode}). */
    private int protectedCode;
    /** When a poll of this cancellation first waited for a resource's code (0: never), and its polls since. */
    private long resourceWaitSinceNanos;
    private long resourcePolls;
    /** Stack traces built by polls that would throw; for tests. */
    long protectedChecks;

    /** True while a poll need not look again: protected code was found a moment ago, and its budget lasts. */
    private boolean stillInProtectedCode() {
        if (protectedRecheckNanos == 0 || System.nanoTime() - protectedRecheckNanos >= 0) {
            return false;
        }
        // A resource's code has a budget of polls too: once they are spent, look (and throw) at once.
        return protectedCode != ProtectedCode.RESOURCE || ++resourcePolls < ProtectedCode.RESOURCE_POLLS;
    }

    /**
     * Whether a poll that found {@code found} ({@link ProtectedCode}) waits instead of throwing: in a
     * static initializer always; in a resource's code within its budget, counted from the first wait
     * of this cancellation.
     */
    private boolean waitsFor(int found) {
        long now = System.nanoTime();
        boolean waits = found == ProtectedCode.INITIALIZER;
        if (found == ProtectedCode.RESOURCE) {
            if (resourceWaitSinceNanos == 0) {
                resourceWaitSinceNanos = now;
            }
            waits = now - resourceWaitSinceNanos < ProtectedCode.RESOURCE_NANOS
                    && ++resourcePolls < ProtectedCode.RESOURCE_POLLS;
        }
        protectedCode = found;
        protectedRecheckNanos = waits ? now + PROTECTED_RECHECK_NANOS : 0;
        return waits;
    }

    private static final StackWalker WALKER = StackWalker.getInstance();
    private static final ClinitFinder CLINIT_FINDER = new ClinitFinder();

    /**
     * True while this thread runs a static initializer (woven code called from one). A signal thrown
     * there would leave the class unusable for the life of its loader (NoClassDefFoundError on every
     * later use, by any thread), so it waits for the first poll after the initializer. Only the slow
     * path (this thread's run was cancelled) pays for the stack walk, and only when the signal's own
     * stack trace was cut off by the JVM's depth limit (see CancelScope).
     */
    static boolean inStaticInitializer() {
        return WALKER.walk(CLINIT_FINDER);
    }

    /** A class, not a lambda: the slow path should not bootstrap invokedynamic call sites. */
    private static final class ClinitFinder
            implements java.util.function.Function<java.util.stream.Stream<StackWalker.StackFrame>, Boolean> {
        @Override
        public Boolean apply(java.util.stream.Stream<StackWalker.StackFrame> frames) {
            java.util.Iterator<StackWalker.StackFrame> it = frames.iterator();
            while (it.hasNext()) {
                if ("<clinit>".equals(it.next().getMethodName())) {
                    return Boolean.TRUE;
                }
            }
            return Boolean.FALSE;
        }
    }

    /**
     * The outermost cancelled scope: nested scopes (deadlines inside a job) rethrow a signal that
     * is not theirs, so throwing the outermost one lets every level unwind to its owner.
     */
    CancelScope outermostCancelled(boolean cooperative) {
        CancelScope found = null;
        for (CancelScope s = top; s != null; s = s.parent()) {
            if (s.isSet() && (cooperative || s.intrusive())) {
                found = s;
            }
        }
        return found;
    }

    /**
     * The cancellation's interrupt, not sent yet: the thread was not blocked when it was cancelled.
     * Its polls stop woven code without an interrupt, and an interrupt would close an interruptible
     * channel it is using at that moment (a FileChannel the whole application shares). The arming
     * thread sends it once the thread blocks, or if it has not stopped 200 ms after the cancel
     * (unwoven code that checks the interrupt status, a blocking NIO read). Guarded by this.
     */
    private boolean owedInterrupt;

    /**
     * Interrupts this thread for its cancellation now if it is blocked (waiting, sleeping, parked),
     * or when the poll sites are armed for good ({@code -Dusethread.poll=flag}: no arming thread
     * follows it); otherwise owes it ({@link #owedInterrupt}).
     */
    synchronized void interruptForCancellation() {
        Thread.State s = thread.getState();
        if (Poll.ALWAYS_ARMED || s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING) {
            interruptOrDefer();
        } else {
            owedInterrupt = true;
        }
    }

    /** Sends the owed interrupt, if any; true if there was one. */
    synchronized boolean payOwedInterrupt() {
        if (!owedInterrupt) {
            return false;
        }
        owedInterrupt = false;
        interruptOrDefer();
        return true;
    }

    /**
     * The cancellation's signal is thrown on this thread: the interrupt that was to wake it is not
     * needed any more, and would disturb the cleanup on the way out (an interruptible channel it
     * writes to there would close, a wait would end at once). Cleared, unless an interrupt of someone
     * else's was set before the cancellation's. A cleanup that blocks for longer than the cleanup
     * budget is interrupted again by the arming thread.
     */
    private void signalLeaving() {
        synchronized (this) {
            owedInterrupt = false;
        }
        boolean ours = false;
        for (CancelScope s = top; s != null; s = s.parent()) { // no lock of ours held: a canceller holds its scope's, then ours
            int ownership = s.interruptOwnership();
            if (ownership == CancelScope.FOREIGN_INTERRUPT) {
                return;
            }
            ours |= ownership == CancelScope.OWN_INTERRUPT;
        }
        if (ours) {
            Thread.interrupted();
        }
    }

    synchronized void interruptOrDefer() {
        if (shieldDepth > 0) {
            deferredInterrupt = true;
        } else {
            thread.interrupt();
        }
    }

    /**
     * Entering the outermost shield while a cancellation of this thread is pending takes the
     * cancellation's interrupt out of the region (it would break interruptible I/O inside, such as
     * a FileChannel write), and gives it back when the region ends.
     */
    synchronized int enterShield() {
        if (shieldDepth == 0 && outermostCancelled(false) != null && Thread.interrupted()) {
            deferredInterrupt = true;
        }
        return ++shieldDepth;
    }

    /** Ends the innermost shield if it is the one at {@code depth}; false (and nothing changed) otherwise. */
    synchronized boolean exitShield(int depth) {
        if (depth != shieldDepth) {
            return false;
        }
        shieldDepth--;
        if (shieldDepth == 0 && deferredInterrupt) {
            deferredInterrupt = false;
            thread.interrupt();
        }
        return true;
    }

    synchronized void clearDeferredInterrupt() {
        deferredInterrupt = false;
    }
}
