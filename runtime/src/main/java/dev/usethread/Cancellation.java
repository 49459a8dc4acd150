package dev.usethread;

import dev.usethread.internal.AgentStatus;
import dev.usethread.internal.CancelScope;
import dev.usethread.internal.Poll;
import java.util.Objects;
import java.util.function.Supplier;

/** Static entry points for code that runs inside a cancellable run. */
public final class Cancellation {
    private Cancellation() {
    }

    /**
     * A cooperative poll: throws {@link CancelledSignal} if the current thread's run (or deadline)
     * was cancelled, unless inside a {@link #shielded(Runnable) shielded} region. Works without the
     * agent, for intrusive and non-intrusive jobs alike. Cheap when nothing is cancelled.
     */
    public static void checkpoint() {
        Poll.checkpoint();
    }

    /** True if the current thread's run was cancelled (whether or not a poll has thrown yet). */
    public static boolean isCancelled() {
        return CancelScope.currentThreadCancelled();
    }

    /**
     * Runs {@code body} so that no {@link CancelledSignal} is thrown on this thread while it runs
     * and no interrupt from a cancellation arrives; a cancellation requested meanwhile is delivered
     * at the first poll after the region (and its interrupt when the region ends). Use it for short
     * critical sections that must not be torn, such as committing a transaction.
     */
    public static <T> T shielded(Supplier<T> body) {
        Objects.requireNonNull(body, "body");
        CancelScope.enterShield();
        try {
            return body.get();
        } finally {
            CancelScope.exitShield();
        }
    }

    /** Runs {@code body} shielded from cancellation; see {@link #shielded(Supplier)}. */
    public static void shielded(Runnable body) {
        Objects.requireNonNull(body, "body");
        CancelScope.enterShield();
        try {
            body.run();
        } finally {
            CancelScope.exitShield();
        }
    }

    /**
     * True when the usethread agent is installed: polls are woven into the configured classes and
     * intrusive jobs are stopped even in code that never checks for cancellation. Without it, only
     * {@link #checkpoint()}, {@link CancelEvent}, emitting partial values and interrupts stop a job.
     */
    public static boolean isIntrusive() {
        return AgentStatus.isInstalled();
    }
}
