package dev.usethread;

/** A listener registration; {@link #close()} stops further deliveries. */
public interface Subscription extends AutoCloseable {
    /** Unsubscribes. Snapshots already handed to the executor may still be delivered. */
    @Override
    void close();
}
