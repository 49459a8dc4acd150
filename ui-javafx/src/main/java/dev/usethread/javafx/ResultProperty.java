package dev.usethread.javafx;

import dev.usethread.Result;
import dev.usethread.Subscription;
import dev.usethread.UseThread;
import java.util.Objects;
import java.util.concurrent.Executor;
import javafx.beans.property.ReadOnlyObjectPropertyBase;

/**
 * A read-only JavaFX property that follows a {@link UseThread} job: its value is the job's latest
 * {@link Result}, and it changes (and notifies its listeners) only on the executor given, in order.
 *
 * <p>In an application pass {@code Platform::runLater}, so bindings and listeners run on the JavaFX
 * application thread. {@code Platform} lives in javafx-graphics, not javafx-base, hence the
 * parameter rather than a default.
 *
 * @param <T> the job's value type
 */
public final class ResultProperty<T> extends ReadOnlyObjectPropertyBase<Result<T>> implements AutoCloseable {
    private final UseThread<T> job;
    private final Subscription subscription;
    private volatile Result<T> value;

    private ResultProperty(UseThread<T> job, Executor fxThread) {
        this.job = job;
        this.value = job.result();
        this.subscription = job.subscribe(this::update, fxThread);
    }

    /**
     * A property of {@code job}'s snapshots, updated through {@code fxThread}.
     *
     * @param job the job to follow
     * @param fxThread runs each update; {@code Platform::runLater} in a JavaFX application
     * @param <T> the job's value type
     * @return the property, holding the job's current snapshot at once
     */
    public static <T> ResultProperty<T> of(UseThread<T> job, Executor fxThread) {
        Objects.requireNonNull(job, "job");
        Objects.requireNonNull(fxThread, "fxThread");
        return new ResultProperty<>(job, fxThread);
    }

    private void update(Result<T> next) {
        if (!next.equals(value)) {
            value = next;
            fireValueChangedEvent();
        }
    }

    @Override
    public Result<T> get() {
        return value;
    }

    /** @return the job this property follows (JavaFX's bean) */
    @Override
    public Object getBean() {
        return job;
    }

    /** @return {@code "result"} */
    @Override
    public String getName() {
        return "result";
    }

    /** Stops following the job; the property keeps its last value. */
    @Override
    public void close() {
        subscription.close();
    }
}
