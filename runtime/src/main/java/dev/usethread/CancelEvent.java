package dev.usethread;

/**
 * The cancellation flag of one run (the {@code threading.Event} of Solara's {@code use_thread}).
 * Handed to callbacks; safe to use from any thread.
 */
public interface CancelEvent {
    /**
     * True once cancellation of this run was requested.
     *
     * @return whether cancellation of this run was requested
     */
    boolean isSet();

    /**
     * Throws {@link CancelledSignal} if cancellation was requested. On the run's own thread inside a
     * {@link Cancellation#shielded(Runnable) shielded} region it does not throw.
     */
    void throwIfSet();

    /**
     * Runs {@code action} when the run is cancelled (at once, on the calling thread, if it already
     * was), for example to close a socket or call {@code Statement.cancel()} that the job is blocked
     * in. The action runs on the thread that requested the cancellation; an exception it throws is
     * logged and does not stop other actions.
     *
     * @param action what to run when the run is cancelled
     * @throws NullPointerException if {@code action} is null
     */
    void onCancel(Runnable action);
}
