package dev.usethread;

/**
 * A callback that receives its run's {@link CancelEvent} and returns a value.
 *
 * @param <T> the type of the value
 */
@FunctionalInterface
public interface Job<T> {
    /**
     * Runs the job on the run's thread.
     *
     * @param cancel this run's cancellation flag
     * @return the run's value: the result's value once the run is FINISHED
     * @throws Exception anything; the run then ends in ERROR (CANCELLED if cancellation was requested)
     */
    T run(CancelEvent cancel) throws Exception;
}
