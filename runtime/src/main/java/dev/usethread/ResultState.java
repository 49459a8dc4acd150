package dev.usethread;

/** The state of a {@link UseThread}'s current run, as in Solara's {@code use_thread}. */
public enum ResultState {
    /** Not started yet. */
    INITIAL,
    /** A run was requested; its thread is starting. */
    STARTING,
    /** The run waits for an earlier run's thread of the same {@code UseThread} to end. */
    WAITING,
    /** The callback is running (partial values may arrive while in this state). */
    RUNNING,
    /** The callback threw; {@link Result#error()} holds what it threw. */
    ERROR,
    /** The callback returned; {@link Result#value()} holds its value. */
    FINISHED,
    /** The run was cancelled and its callback has stopped. */
    CANCELLED;

    /**
     * True for FINISHED, ERROR and CANCELLED: no callback of this run is running any more.
     *
     * @return whether this state ends a run
     */
    public boolean isTerminal() {
        return this == FINISHED || this == ERROR || this == CANCELLED;
    }

    /**
     * True for STARTING, WAITING and RUNNING.
     *
     * @return whether a run in this state was requested and has not ended
     */
    public boolean isActive() {
        return this == STARTING || this == WAITING || this == RUNNING;
    }
}
