package dev.usethread;

import java.util.Objects;

/**
 * An immutable snapshot of a {@link UseThread}: its state, value and error, which always belong
 * together. {@link #cancel()} and {@link #retry()} act on the job the snapshot came from.
 *
 * @param <T> the type of the job's value
 */
public final class Result<T> {
    private final UseThread<T> owner;
    private final long run;
    private final ResultState state;
    private final T value;
    private final Throwable error;

    Result(UseThread<T> owner, long run, ResultState state, T value, Throwable error) {
        this.owner = owner;
        this.run = run;
        this.state = state;
        this.value = value;
        this.error = error;
    }

    /**
     * The state of the run this snapshot belongs to.
     *
     * @return the run's state when the snapshot was taken
     */
    public ResultState state() {
        return state;
    }

    /**
     * The latest value a run produced (returned, or emitted as a partial value); kept while a new
     * run starts, and while a later run fails. Null if no run has produced one.
     *
     * @return the latest value, or null
     */
    public T value() {
        return value;
    }

    /**
     * What the last failed run threw; cleared when a run finishes. Null if none.
     *
     * @return what the last failed run threw, or null
     */
    public Throwable error() {
        return error;
    }

    /**
     * The number of the run this snapshot belongs to, counting from 1 (0 before the first).
     *
     * @return the run's number, or 0 before the first run
     */
    public long run() {
        return run;
    }

    /**
     * Cancels the run this snapshot belongs to, if it is still the job's current run and has not
     * ended. A stale snapshot (a newer run has started since) does nothing, so a "Cancel" button
     * rendered from an old snapshot never stops a run the user has not seen yet.
     */
    public void cancel() {
        owner.cancelRun(run);
    }

    /**
     * Restarts the job ({@link UseThread#retry()}).
     *
     * @return the new run's STARTING snapshot
     */
    public Result<T> retry() {
        return owner.retry();
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Result)) {
            return false;
        }
        Result<?> r = (Result<?>) o;
        return owner == r.owner && run == r.run && state == r.state
                && Objects.equals(value, r.value) && Objects.equals(error, r.error);
    }

    @Override
    public int hashCode() {
        return Objects.hash(run, state, value, error);
    }

    @Override
    public String toString() {
        return "Result[run=" + run + ", state=" + state + ", value=" + value
                + (error == null ? "" : ", error=" + error) + "]";
    }
}
