package dev.usethread;

import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * Thrown by {@link Cancellation#withTimeout} when its deadline passed and the body was stopped.
 * Carries the deadline and the frame where the body was stopped; its cause is the
 * {@link CancelledSignal} (or what the body made of the deadline's interrupt, such as an
 * {@link InterruptedException}).
 */
public final class DeadlineExceededException extends TimeoutException {
    private static final long serialVersionUID = 1L;

    /** The timeout given to {@code withTimeout}. */
    private final Duration deadline;
    /** The first frame of the body's code where it was stopped, or null if the cause shows none. */
    private final StackTraceElement stoppedAt;

    DeadlineExceededException(Duration deadline, StackTraceElement stoppedAt, Throwable cause) {
        super("deadline of " + deadline + " passed; the body was stopped at "
                + (stoppedAt == null ? "an unknown frame" : stoppedAt.toString()));
        this.deadline = deadline;
        this.stoppedAt = stoppedAt;
        initCause(cause);
    }

    /**
     * The timeout given to {@code withTimeout}.
     *
     * @return the timeout given to {@code withTimeout}
     */
    public Duration deadline() {
        return deadline;
    }

    /**
     * The first frame of the body's code where it was stopped, or null if the cause shows none.
     *
     * @return the frame where the body was stopped, or null
     */
    public StackTraceElement stoppedAt() {
        return stoppedAt;
    }
}
