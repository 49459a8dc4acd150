package dev.usethread.internal;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.function.Supplier;

/**
 * The agent's {@code executors=intrusive}: every {@code FutureTask} and every
 * {@code CompletableFuture} async task in the JVM runs its body inside an intrusive scope of its own,
 * which {@code FutureTask.cancel(true)} cancels, or, for a CompletableFuture, anything that completes
 * the future before its body does ({@code cancel}, {@code orTimeout}, {@code completeOnTimeout}).
 * The agent replaces the body's call in the JDK ({@code c.call()}, {@code f.get()}, {@code f.run()})
 * by the methods below, and the interrupt in {@code FutureTask.cancel} by {@link #cancel}.
 *
 * <p>The scopes of running bodies live in a side table keyed by task identity (a retransformed
 * class cannot get a field). An entry lives exactly while its body runs (removed in a finally), so
 * the table needs no weak keys, and nothing but a running body ever adds one.
 *
 * <p>No lambdas and no string concatenation by {@code +}: these run inside the JDK's concurrency classes.
 */
public final class TaskScopes {
    private static final ConcurrentHashMap<Identity, CancelScope> RUNNING = new ConcurrentHashMap<>();
    private static final String DESCRIPTION = "a task whose future was cancelled (executors=intrusive);";

    private TaskScopes() {
    }

    /** Replaces {@code c.call()} in {@code FutureTask.run} and {@code runAndReset}. */
    public static Object call(Callable<?> c, Object task) throws Exception {
        Identity key = new Identity(task);
        CancelScope scope = new CancelScope(DESCRIPTION, true);
        RUNNING.put(key, scope);
        scope.enter();
        if (task instanceof Future && Thread.currentThread().isInterrupted() && ((Future<?>) task).isCancelled()) {
            // cancel(true) came before the scope was in the table, and only interrupted: take that
            // interrupt back and cancel the scope, whose own interrupt ends with the body.
            Thread.interrupted();
            scope.cancel();
        }
        try {
            return c.call();
        } finally {
            leave(key, scope);
        }
    }

    /**
     * Replaces {@code runner.interrupt()} in {@code FutureTask.cancel(true)}, which the JDK reaches
     * only when the cancel won and the task has a runner: cancels the scope of the running body
     * (which interrupts its thread and takes the interrupt back when the body ends). Between the
     * runner's start and its body's scope, the runner is interrupted as the JDK does, and looked up
     * again: the body sees either that interrupt ({@link #call}) or the scope is found here.
     */
    public static void cancel(Thread runner, Object task) {
        Identity key = new Identity(task);
        CancelScope scope = RUNNING.get(key);
        if (scope == null) {
            runner.interrupt();
            scope = RUNNING.get(key);
        }
        if (scope != null) {
            scope.cancel();
        }
    }

    /** Replaces {@code f.get()} in {@code CompletableFuture.AsyncSupply.run}; {@code future} is its dependent. */
    public static Object supply(Supplier<?> f, Object future) {
        if (!(future instanceof CompletableFuture)) {
            return f.get();
        }
        Identity key = new Identity(future);
        CancelScope scope = enterFor(key, (CompletableFuture<?>) future);
        try {
            return f.get();
        } finally {
            leave(key, scope);
        }
    }

    /** Replaces {@code f.run()} in {@code CompletableFuture.AsyncRun.run}. */
    public static void run(Runnable f, Object future) {
        if (!(future instanceof CompletableFuture)) {
            f.run();
            return;
        }
        Identity key = new Identity(future);
        CancelScope scope = enterFor(key, (CompletableFuture<?>) future);
        try {
            f.run();
        } finally {
            leave(key, scope);
        }
    }

    /** At the start of {@code CompletableFuture.postComplete()}: the future is complete; stop its body if it still runs. */
    public static void completed(Object future) {
        if (RUNNING.isEmpty()) {
            return;
        }
        CancelScope scope = RUNNING.get(new Identity(future));
        if (scope != null) {
            scope.cancel();
        }
    }

    /** For tests and diagnostics: bodies running in a scope now. */
    public static int running() {
        return RUNNING.size();
    }

    private static CancelScope enterFor(Identity key, CompletableFuture<?> future) {
        CancelScope scope = new CancelScope(DESCRIPTION, true);
        RUNNING.put(key, scope);
        scope.enter();
        if (future.isDone()) {
            scope.cancel(); // completed before the scope was in the table: completed() did not see it
        }
        return scope;
    }

    private static void leave(Identity key, CancelScope scope) {
        try {
            scope.exit();
        } finally {
            RUNNING.remove(key, scope);
        }
    }

    /** A task as a map key by identity: a task class may define equals, two tasks are still two. */
    private static final class Identity {
        private final Object task;

        Identity(Object task) {
            this.task = task;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(task);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Identity && ((Identity) o).task == task;
        }
    }
}
