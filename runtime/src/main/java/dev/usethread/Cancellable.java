package dev.usethread;

import dev.usethread.internal.CancelScope;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RunnableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Real cancellation for existing {@code java.util.concurrent} code. A task submitted through
 * {@link #executor(ExecutorService)}, or started by {@link #supplyAsync}/{@link #runAsync}, runs
 * inside an intrusive cancellation region: {@code Future.cancel(true)}, {@code shutdownNow()},
 * {@code invokeAll}/{@code invokeAny} with a timeout, and a {@code CompletableFuture}'s
 * {@code cancel}, {@code orTimeout} or {@code completeOnTimeout} then stop the task at its next
 * poll when the agent is installed. Without the agent they interrupt the task's thread, exactly as
 * the JDK does. The region ends with the task, so a pool thread never carries a cancellation (or
 * the interrupt that came with it) into its next task.
 */
public final class Cancellable {
    private Cancellable() {
    }

    /**
     * An executor service that runs every task of {@code pool} inside a cancellable region. Shutting
     * it down shuts {@code pool} down; {@code shutdownNow()} also stops the tasks it is running.
     */
    public static ExecutorService executor(ExecutorService pool) {
        Objects.requireNonNull(pool, "pool");
        return pool instanceof CancellableExecutor ? pool : new CancellableExecutor(pool);
    }

    /**
     * Runs {@code supplier} on {@code executor} as the async stage of the returned future; cancelling
     * the future ({@code cancel(true)}), or completing it first by {@code orTimeout},
     * {@code completeOnTimeout}, {@code complete} or {@code completeExceptionally}, stops the stage.
     * Stages derived from it ({@code thenApply} ...) are ordinary.
     */
    public static <T> CompletableFuture<T> supplyAsync(Supplier<T> supplier, Executor executor) {
        Objects.requireNonNull(supplier, "supplier");
        Objects.requireNonNull(executor, "executor");
        StageFuture<T> future = new StageFuture<>(true);
        executor.execute(() -> future.runStage(supplier));
        return future;
    }

    /** Like {@link #supplyAsync}, for a stage without a value. */
    public static CompletableFuture<Void> runAsync(Runnable body, Executor executor) {
        Objects.requireNonNull(body, "body");
        return supplyAsync(() -> {
            body.run();
            return null;
        }, executor);
    }

    private static CancelScope newScope() {
        return new CancelScope("a task of Cancellable", true);
    }

    /** A FutureTask that runs inside its own intrusive scope, which {@code cancel(true)} cancels. */
    static final class ScopedTask<T> extends FutureTask<T> {
        private final CancelScope scope = newScope();
        private final Set<ScopedTask<?>> running;

        ScopedTask(Callable<T> callable, Set<ScopedTask<?>> running) {
            super(callable);
            this.running = running;
        }

        ScopedTask(Runnable runnable, T value, Set<ScopedTask<?>> running) {
            super(runnable, value);
            this.running = running;
        }

        @Override
        public void run() {
            if (isDone()) {
                return; // cancelled while queued
            }
            running.add(this);
            scope.enter();
            try {
                super.run();
            } finally {
                scope.exit(); // clears the interrupt the scope caused
                running.remove(this);
            }
        }

        /**
         * Cancels without FutureTask's own interrupt: the scope interrupts the thread instead (the
         * same interrupt the JDK would send), and takes it back when the task ends.
         */
        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(false);
            if (cancelled && mayInterruptIfRunning) {
                scope.cancel();
            }
            return cancelled;
        }

        void stop() {
            scope.cancel();
        }
    }

    private static final class CancellableExecutor extends AbstractExecutorService {
        private final ExecutorService pool;
        private final Set<ScopedTask<?>> running = ConcurrentHashMap.newKeySet();

        CancellableExecutor(ExecutorService pool) {
            this.pool = pool;
        }

        @Override
        protected <T> RunnableFuture<T> newTaskFor(Runnable runnable, T value) {
            return new ScopedTask<>(runnable, value, running);
        }

        @Override
        protected <T> RunnableFuture<T> newTaskFor(Callable<T> callable) {
            return new ScopedTask<>(callable, running);
        }

        @Override
        public void execute(Runnable command) {
            Objects.requireNonNull(command, "command");
            pool.execute(command instanceof ScopedTask ? command : newTaskFor(command, null));
        }

        @Override
        public void shutdown() {
            pool.shutdown();
        }

        /** The pool's own shutdownNow (its interrupts stay), then every running task is stopped. */
        @Override
        public List<Runnable> shutdownNow() {
            List<Runnable> queued = pool.shutdownNow();
            for (ScopedTask<?> task : new ArrayList<>(running)) {
                task.stop();
            }
            return queued;
        }

        @Override
        public boolean isShutdown() {
            return pool.isShutdown();
        }

        @Override
        public boolean isTerminated() {
            return pool.isTerminated();
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
            return pool.awaitTermination(timeout, unit);
        }

        @Override
        public String toString() {
            return "Cancellable.executor(" + pool + ")";
        }
    }

    /**
     * The async stage's future: whatever completes it before the stage does (cancel, a timeout, an
     * explicit complete) also stops the stage, since nobody can observe its result any more.
     */
    private static final class StageFuture<T> extends CompletableFuture<T> {
        private final CancelScope scope;

        StageFuture(boolean async) {
            this.scope = async ? newScope() : null;
        }

        void runStage(Supplier<T> supplier) {
            if (isDone()) {
                return;
            }
            scope.enter();
            try {
                T value = supplier.get();
                super.complete(value);
            } catch (Throwable t) {
                super.completeExceptionally(t);
            } finally {
                scope.exit();
            }
        }

        private boolean stopped(boolean completedByThisCall) {
            if (completedByThisCall && scope != null) {
                scope.cancel();
            }
            return completedByThisCall;
        }

        @Override
        public boolean complete(T value) {
            return stopped(super.complete(value));
        }

        @Override
        public boolean completeExceptionally(Throwable ex) {
            return stopped(super.completeExceptionally(ex));
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            return stopped(super.cancel(mayInterruptIfRunning));
        }

        @Override
        public <U> CompletableFuture<U> newIncompleteFuture() {
            return new StageFuture<>(false);
        }
    }
}
