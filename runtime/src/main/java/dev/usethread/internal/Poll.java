package dev.usethread.internal;

/**
 * The entry point that the agent weaves into loop back-edges and method entries. Its name and
 * signature ({@code public static void poll()}) are a stable contract with woven code.
 *
 * <p>The fast path is one read of a counter of cancellations in flight; only while some scope is
 * cancelled does a poll look up the current thread's state.
 */
public final class Poll {
    private static final Object COUNT_LOCK = new Object();
    /** Number of entered, not yet exited scopes whose cancellation was requested. */
    private static volatile int pending;

    private Poll() {
    }

    /** Woven poll: throws {@code CancelledSignal} if this thread's intrusive run was cancelled. */
    public static void poll() {
        if (pending != 0) {
            ThreadState.pollSlow(false);
        }
    }

    /** Cooperative poll: like {@link #poll()} but also honours non-intrusive scopes. */
    public static void checkpoint() {
        if (pending != 0) {
            ThreadState.pollSlow(true);
        }
    }

    static void addPending(int delta) {
        synchronized (COUNT_LOCK) {
            pending += delta;
        }
    }

    /** For tests and diagnostics. */
    public static int pendingCount() {
        return pending;
    }
}
