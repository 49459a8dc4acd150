package dev.usethread;

import dev.usethread.internal.AgentStatus;
import dev.usethread.internal.CancelScope;
import dev.usethread.internal.Poll;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeoutException;
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

    /**
     * True if the current thread's run was cancelled (whether or not a poll has thrown yet).
     *
     * @return whether the current thread's run was cancelled
     */
    public static boolean isCancelled() {
        return CancelScope.currentThreadCancelled();
    }

    /**
     * Runs {@code body} so that no {@link CancelledSignal} is thrown on this thread while it runs
     * and no interrupt from a cancellation arrives; a cancellation requested meanwhile is delivered
     * at the first poll after the region (and its interrupt when the region ends). Use it for short
     * critical sections that must not be torn, such as committing a transaction.
     *
     * @param <T> the type of the body's result
     * @param body the code to run shielded
     * @return what {@code body} returned
     */
    public static <T> T shielded(Supplier<T> body) {
        Objects.requireNonNull(body, "body");
        try (CancelScope.Shield ignored = CancelScope.shield()) {
            return body.get();
        }
    }

    /**
     * Runs {@code body} shielded from cancellation; see {@link #shielded(Supplier)}.
     *
     * @param body the code to run shielded
     */
    public static void shielded(Runnable body) {
        Objects.requireNonNull(body, "body");
        try (CancelScope.Shield ignored = CancelScope.shield()) {
            body.run();
        }
    }

    /**
     * True when the usethread agent is installed: polls are woven into the configured classes and
     * intrusive jobs are stopped even in code that never checks for cancellation. Without it, only
     * {@link #checkpoint()}, {@link CancelEvent}, emitting partial values and interrupts stop a job.
     *
     * @return whether the usethread agent is installed in this JVM
     */
    public static boolean isIntrusive() {
        return AgentStatus.isInstalled();
    }

    /**
     * Runs {@code body} on the current thread and stops it when {@code timeout} passes: intrusively
     * with the agent (woven polls throw), cooperatively without it (checkpoints, interrupts), then
     * throws a {@link DeadlineExceededException} (a {@link TimeoutException}) that carries the
     * deadline and the frame where the body was stopped (the signal is its cause). The body runs on
     * the calling thread, so a body that no poll or interrupt reaches (unwoven JDK code, an
     * uninterruptible wait) cannot be given up on: if it is still running one second after the
     * deadline, where it is stuck and what would stop it is logged once, as a WARNING of
     * {@code System.Logger} "dev.usethread". Deadlines nest: an inner one cannot extend an outer one, whose
     * expiry unwinds through the inner call to the outer one. If the body returns normally, even
     * after the deadline, its value is returned. The thread's interrupt status caused by the
     * deadline is cleared before this method returns or throws.
     *
     * @param <T> the type of the body's result
     * @param <X> the checked exception type the body may throw
     * @param timeout how long the body may run
     * @param body the code to run on the current thread
     * @return what {@code body} returned
     * @throws DeadlineExceededException if the deadline passed and the body then ended by throwing
     * @throws X what {@code body} threw, when the deadline had not passed
     * @throws IllegalArgumentException if {@code timeout} is zero or negative
     * @throws NullPointerException if {@code timeout} or {@code body} is null
     */
    public static <T, X extends Exception> T withTimeout(Duration timeout, Body<T, X> body)
            throws DeadlineExceededException, X {
        return Deadlines.run(timeout, body);
    }

    /**
     * A body for {@link #withTimeout}; its checked exception type is inferred from the lambda.
     *
     * @param <T> the type of the body's result
     * @param <X> the checked exception type the body may throw
     */
    @FunctionalInterface
    public interface Body<T, X extends Exception> {
        /**
         * Runs the body.
         *
         * @return the body's result
         * @throws X whatever the body throws
         */
        T run() throws X;
    }
}
