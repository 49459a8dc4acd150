package dev.usethread;

/**
 * A callback that takes nothing and returns a value; it is stopped by polls or interrupts only.
 *
 * @param <T> the type of the value
 */
@FunctionalInterface
public interface Task<T> {
    /**
     * Runs the task on the run's thread.
     *
     * @return the run's value: the result's value once the run is FINISHED
     * @throws Exception anything; the run then ends in ERROR (CANCELLED if cancellation was requested)
     */
    T call() throws Exception;
}
