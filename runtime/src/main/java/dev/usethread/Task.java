package dev.usethread;

/** A callback that takes nothing and returns a value; it is stopped by polls or interrupts only. */
@FunctionalInterface
public interface Task<T> {
    T call() throws Exception;
}
