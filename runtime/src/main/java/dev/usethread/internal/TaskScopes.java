package dev.usethread.internal;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The agent's {@code executors=intrusive}: every {@code FutureTask} and every
 * {@code CompletableFuture} async task in the JVM runs its body inside an intrusive scope of its own,
 * which {@code FutureTask.cancel(true)} cancels, or, for a CompletableFuture, anything that completes
 * the future before its body does ({@code cancel}, {@code orTimeout}, {@code completeOnTimeout}).
 * The agent replaces the body's call in the JDK ({@code c.call()}, {@code f.get()}, {@code f.run()})
 * by the methods below, and the interrupt in {@code FutureTask.cancel} by {@link #cancel}. Scopes
 * live in a weak identity side table keyed by the task (a retransformed class cannot get a field).
 *
 * <p>No lambdas and no string concatenation by {@code +}: these run inside the JDK's concurrency classes.
 */
public final class TaskScopes {
    private static final TaskTokens SCOPES = new TaskTokens();

    private TaskScopes() {
    }

    /** Replaces {@code c.call()} in {@code FutureTask.run} and {@code runAndReset}. */
    public static Object call(Callable<?> c, Object task) throws Exception {
        CancelScope scope = scopeOf(task);
        scope.enter();
        try {
            return c.call();
        } finally {
            leave(scope, task);
        }
    }

    /**
     * Replaces {@code runner.interrupt()} in {@code FutureTask.cancel(true)}, which the JDK reaches
     * only when the cancel won and the task has a runner: cancels the task's scope (which interrupts
     * the thread while the body runs, and takes the interrupt back when the body ends).
     */
    public static void cancel(Thread runner, Object task) {
        CancelScope scope = scopeOf(task);
        scope.cancel();
    }

    /** Replaces {@code f.get()} in {@code CompletableFuture.AsyncSupply.run}; {@code future} is its dependent. */
    public static Object supply(Supplier<?> f, Object future) {
        if (!(future instanceof CompletableFuture)) {
            return f.get();
        }
        CancelScope scope = enterFor((CompletableFuture<?>) future);
        try {
            return f.get();
        } finally {
            leave(scope, future);
        }
    }

    /** Replaces {@code f.run()} in {@code CompletableFuture.AsyncRun.run}. */
    public static void run(Runnable f, Object future) {
        if (!(future instanceof CompletableFuture)) {
            f.run();
            return;
        }
        CancelScope scope = enterFor((CompletableFuture<?>) future);
        try {
            f.run();
        } finally {
            leave(scope, future);
        }
    }

    /** At the start of {@code CompletableFuture.postComplete()}: the future is complete; stop its body if it still runs. */
    public static void completed(Object future) {
        if (SCOPES.isEmpty()) {
            return;
        }
        Object scope = SCOPES.get(future);
        if (scope != null) {
            ((CancelScope) scope).cancel();
        }
    }

    /** For tests and diagnostics: tasks that have a scope now. */
    public static int size() {
        return SCOPES.size();
    }

    private static CancelScope enterFor(CompletableFuture<?> future) {
        CancelScope scope = scopeOf(future);
        scope.enter();
        if (future.isDone()) {
            scope.cancel(); // completed before the scope was registered: completed() did not see it
        }
        return scope;
    }

    private static CancelScope scopeOf(Object task) {
        Object existing = SCOPES.get(task);
        if (existing != null) {
            return (CancelScope) existing;
        }
        return (CancelScope) SCOPES.putIfAbsent(task, new CancelScope("a task whose future was cancelled (executors=intrusive);", true));
    }

    private static void leave(CancelScope scope, Object task) {
        try {
            scope.exit();
        } finally {
            SCOPES.take(task);
        }
    }
}
