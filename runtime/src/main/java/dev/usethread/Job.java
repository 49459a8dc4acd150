package dev.usethread;

/** A callback that receives its run's {@link CancelEvent} and returns a value. */
@FunctionalInterface
public interface Job<T> {
    T run(CancelEvent cancel) throws Exception;
}
