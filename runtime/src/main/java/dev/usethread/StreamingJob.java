package dev.usethread;

/**
 * A callback that publishes partial values (the generator form of Solara's {@code use_thread}).
 * Each {@link Emitter#emit emitted} value becomes {@link Result#value()} while the state stays
 * RUNNING; when the callback returns, the state becomes FINISHED with the last emitted value.
 */
@FunctionalInterface
public interface StreamingJob<T> {
    void run(CancelEvent cancel, Emitter<T> emitter) throws Exception;
}
