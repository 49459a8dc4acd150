package dev.usethread.swing;

import dev.usethread.Result;
import dev.usethread.Subscription;
import dev.usethread.UseThread;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import javax.swing.SwingUtilities;

/** Swing's event dispatch thread as a listener executor for {@link UseThread}. */
public final class SwingExecutors {
    private static final Executor EDT = command -> {
        Objects.requireNonNull(command, "command");
        if (SwingUtilities.isEventDispatchThread()) {
            command.run(); // already on the EDT: no extra hop, and the snapshot is shown now
        } else {
            SwingUtilities.invokeLater(command);
        }
    };

    private SwingExecutors() {
    }

    /**
     * An executor that runs each task on the event dispatch thread: inline when called there,
     * otherwise through {@link SwingUtilities#invokeLater}.
     *
     * @return the EDT executor
     */
    public static Executor edt() {
        return EDT;
    }

    /**
     * Subscribes {@code listener} to {@code job} so that every snapshot, the current one first, is
     * delivered on the event dispatch thread, in order.
     *
     * @param job the job to watch
     * @param listener called on the EDT with each snapshot (may touch Swing components)
     * @param <T> the job's value type
     * @return the subscription; close it to stop deliveries
     */
    public static <T> Subscription subscribeOnEdt(UseThread<T> job, Consumer<? super Result<T>> listener) {
        Objects.requireNonNull(job, "job");
        return job.subscribe(listener, EDT);
    }
}
