package dev.usethread;

/**
 * Publishes partial values of a {@link StreamingJob}.
 *
 * @param <T> the type of the values
 */
@FunctionalInterface
public interface Emitter<T> {
    /**
     * Makes {@code value} the current value of the run while it stays RUNNING. Emitting is also a
     * cancellation point: on the run's own thread, once cancellation was requested, the value is
     * discarded and {@link CancelledSignal} is thrown (even without the agent, as a generator is
     * stopped at its next {@code yield}). Values emitted after the callback returned are ignored.
     *
     * @param value the partial value
     */
    void emit(T value);
}
