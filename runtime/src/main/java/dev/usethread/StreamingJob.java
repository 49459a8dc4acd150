package dev.usethread;

/**
 * A callback that publishes partial values (the generator form of Solara's {@code use_thread}).
 * Each {@link Emitter#emit emitted} value becomes {@link Result#value()} while the state stays
 * RUNNING; when the callback returns, the state becomes FINISHED with the last emitted value.
 *
 * @param <T> the type of the emitted values
 */
@FunctionalInterface
public interface StreamingJob<T> {
    /**
     * Runs the job on the run's thread.
     *
     * @param cancel this run's cancellation flag
     * @param emitter publishes partial values of this run
     * @throws Exception anything; the run then ends in ERROR (CANCELLED if cancellation was requested)
     */
    void run(CancelEvent cancel, Emitter<T> emitter) throws Exception;
}
