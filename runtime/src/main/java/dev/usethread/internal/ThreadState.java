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
    /** An interrupt that arrived inside a shielded region, delivered when the region ends. */
    private boolean deferredInterrupt;
    /** Guards against polls re-entering from code the slow path calls (woven JDK classes). */
    private boolean inSlowPath;

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

    static void pollSlow(boolean cooperative) {
        ThreadState state = CURRENT.get();
        if (state == null || state.top == null || state.inSlowPath || state.shieldDepth > 0) {
            return;
        }
        state.inSlowPath = true;
        CancelledSignal signal = null;
        try {
            CancelScope target = state.outermostCancelled(cooperative);
            if (target != null) {
                signal = target.signalOutsideStaticInitializer();
            }
        } finally {
            state.inSlowPath = false;
        }
        if (signal != null) {
            throw signal;
        }
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

    synchronized void interruptOrDefer() {
        if (shieldDepth > 0) {
            deferredInterrupt = true;
        } else {
            thread.interrupt();
        }
    }

    synchronized void enterShield() {
        shieldDepth++;
    }

    synchronized void exitShield() {
        shieldDepth--;
        if (shieldDepth == 0 && deferredInterrupt) {
            deferredInterrupt = false;
            thread.interrupt();
        }
    }

    synchronized void clearDeferredInterrupt() {
        deferredInterrupt = false;
    }
}
