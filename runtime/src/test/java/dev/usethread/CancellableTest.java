package dev.usethread;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.usethread.internal.Poll;
import dev.usethread.internal.PollingSpin;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledForJreRange;
import org.junit.jupiter.api.condition.JRE;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The drop-in for java.util.concurrent with real pools. There is no agent in unit tests, so the
 * tasks call {@link Poll#poll()} in their loops: exactly what the agent weaves into a loop.
 */
class CancellableTest {
    private static final long LIVENESS_SECONDS = 20;

    /** A CPU-bound task that only stops when a poll throws (or after a minute, so a failing test cannot spin for ever). */
    static final class Spinner {
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch stopped = new CountDownLatch(1);
        final AtomicReference<Throwable> stoppedBy = new AtomicReference<>();

        String spin() {
            try {
                return PollingSpin.spin(started, stoppedBy);
            } finally {
                stopped.countDown();
            }
        }

        Callable<String> task() {
            return this::spin;
        }

        void awaitStarted() throws InterruptedException {
            assertThat(started.await(LIVENESS_SECONDS, TimeUnit.SECONDS)).as("task started").isTrue();
        }

        void assertStoppedByCancellation() throws InterruptedException {
            assertThat(stopped.await(LIVENESS_SECONDS, TimeUnit.SECONDS)).as("task stopped").isTrue();
            assertThat(stoppedBy.get()).isInstanceOf(CancelledSignal.class)
                    .hasMessageContaining("a task of Cancellable was cancelled");
        }
    }

    static Stream<Named<Supplier<ExecutorService>>> pools() {
        List<Named<Supplier<ExecutorService>>> pools = new ArrayList<>();
        pools.add(Named.of("fixed", () -> Executors.newFixedThreadPool(1)));
        pools.add(Named.of("cached", Executors::newCachedThreadPool));
        pools.add(Named.of("ForkJoin", () -> new ForkJoinPool(1)));
        pools.add(Named.of("scheduled", () -> Executors.newScheduledThreadPool(1)));
        if (Runtime.version().feature() >= 21) {
            pools.add(Named.of("virtual-thread-per-task", CancellableTest::virtualThreadPerTask));
        }
        return pools.stream();
    }

    /** Compiled for 17: the JDK 21 factory by reflection. */
    static ExecutorService virtualThreadPerTask() {
        try {
            return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What the pool's next task sees: interrupted?, cancelled?, and a poll that must not throw. */
    private static String nextTaskSees(ExecutorService executor) throws Exception {
        return executor.submit(() -> {
            Poll.poll();
            Cancellation.checkpoint();
            return "interrupted=" + Thread.currentThread().isInterrupted() + " cancelled=" + Cancellation.isCancelled();
        }).get(LIVENESS_SECONDS, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @MethodSource("pools")
    void cancelTrueStopsTheTaskAndThePoolsNextTaskIsClean(Supplier<ExecutorService> pool) throws Exception {
        ExecutorService executor = Cancellable.executor(pool.get());
        try {
            Spinner spinner = new Spinner();
            Future<String> future = executor.submit(spinner.task());
            spinner.awaitStarted();
            assertThat(future.cancel(true)).isTrue();
            spinner.assertStoppedByCancellation();
            assertThat(future.isCancelled()).isTrue();
            assertThatThrownBy(future::get).isInstanceOf(CancellationException.class);
            assertThat(nextTaskSees(executor)).isEqualTo("interrupted=false cancelled=false");
            // The pool still works, and a later task is cancellable again.
            Spinner second = new Spinner();
            Future<String> again = executor.submit(second.task());
            second.awaitStarted();
            again.cancel(true);
            second.assertStoppedByCancellation();
            assertThat(nextTaskSees(executor)).isEqualTo("interrupted=false cancelled=false");
        } finally {
            executor.shutdownNow();
        }
    }

    @ParameterizedTest
    @MethodSource("pools")
    void shutdownNowStopsEveryRunningTask(Supplier<ExecutorService> pool) throws Exception {
        ExecutorService executor = Cancellable.executor(pool.get());
        Spinner spinner = new Spinner();
        Future<String> future = executor.submit(spinner.task());
        spinner.awaitStarted();
        executor.shutdownNow();
        spinner.assertStoppedByCancellation();
        assertThat(executor.awaitTermination(LIVENESS_SECONDS, TimeUnit.SECONDS)).isTrue();
        assertThatThrownBy(future::get).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(CancelledSignal.class);
    }

    @Test
    void shutdownNowStopsAllTasksOfAPool() throws Exception {
        ExecutorService executor = Cancellable.executor(Executors.newFixedThreadPool(3));
        List<Spinner> spinners = List.of(new Spinner(), new Spinner(), new Spinner());
        for (Spinner s : spinners) {
            executor.submit(s.task());
        }
        for (Spinner s : spinners) {
            s.awaitStarted();
        }
        executor.shutdownNow();
        for (Spinner s : spinners) {
            s.assertStoppedByCancellation();
        }
        assertThat(executor.awaitTermination(LIVENESS_SECONDS, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void invokeAllWithATimeoutStopsTheTasksThatOverran() throws Exception {
        ExecutorService executor = Cancellable.executor(Executors.newFixedThreadPool(2));
        try {
            Spinner overrun = new Spinner();
            List<Future<String>> results = executor.invokeAll(List.of(() -> "quick", overrun.task()), 300, TimeUnit.MILLISECONDS);
            assertThat(results.get(0).get()).isEqualTo("quick");
            assertThat(results.get(1).isCancelled()).isTrue();
            overrun.assertStoppedByCancellation();
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void invokeAnyWithATimeoutStopsTheTasksThatOverran() throws Exception {
        ExecutorService executor = Cancellable.executor(Executors.newCachedThreadPool());
        try {
            Spinner a = new Spinner();
            Spinner b = new Spinner();
            assertThatThrownBy(() -> executor.invokeAny(List.of(a.task(), b.task()), 300, TimeUnit.MILLISECONDS))
                    .isInstanceOf(TimeoutException.class);
            a.assertStoppedByCancellation();
            b.assertStoppedByCancellation();
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void withoutPollsCancelTrueInterruptsLikeTheJdk() throws Exception {
        ExecutorService executor = Cancellable.executor(Executors.newSingleThreadExecutor());
        try {
            CountDownLatch sleeping = new CountDownLatch(1);
            AtomicReference<Throwable> woke = new AtomicReference<>();
            Future<?> future = executor.submit(() -> {
                sleeping.countDown();
                try {
                    Thread.sleep(TimeUnit.MINUTES.toMillis(1));
                } catch (InterruptedException e) {
                    woke.set(e);
                }
            });
            assertThat(sleeping.await(LIVENESS_SECONDS, TimeUnit.SECONDS)).isTrue();
            future.cancel(true);
            assertThat(nextTaskSees(executor)).isEqualTo("interrupted=false cancelled=false");
            assertThat(woke.get()).isInstanceOf(InterruptedException.class);
            // cancel(false) does not stop a running task, as in the JDK.
            Spinner spinner = new Spinner();
            Future<String> notStopped = executor.submit(spinner.task());
            spinner.awaitStarted();
            assertThat(notStopped.cancel(false)).isTrue();
            assertThat(spinner.stopped.await(200, TimeUnit.MILLISECONDS)).isFalse();
            executor.shutdownNow();
            spinner.assertStoppedByCancellation();
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void resultsAndFailuresAreTheTasks() throws Exception {
        ExecutorService executor = Cancellable.executor(Executors.newSingleThreadExecutor());
        try {
            assertThat(executor.submit(() -> 42).get()).isEqualTo(42);
            Future<Object> failing = executor.submit(() -> {
                throw new IllegalStateException("boom");
            });
            assertThatThrownBy(failing::get).hasCauseInstanceOf(IllegalStateException.class);
            CountDownLatch ran = new CountDownLatch(1);
            executor.execute(ran::countDown);
            assertThat(ran.await(LIVENESS_SECONDS, TimeUnit.SECONDS)).isTrue();
            assertThatThrownBy(() -> Cancellable.executor(null)).isInstanceOf(NullPointerException.class).hasMessageContaining("pool");
        } finally {
            executor.shutdown();
        }
    }

    @ParameterizedTest
    @MethodSource("pools")
    void completableFutureOrTimeoutStopsTheAsyncStage(Supplier<ExecutorService> pool) throws Exception {
        ExecutorService executor = pool.get();
        try {
            Spinner spinner = new Spinner();
            CompletableFuture<String> future = Cancellable.supplyAsync(spinner::spin, executor)
                    .orTimeout(300, TimeUnit.MILLISECONDS);
            assertThatThrownBy(() -> future.get(LIVENESS_SECONDS, TimeUnit.SECONDS)).hasCauseInstanceOf(TimeoutException.class);
            spinner.assertStoppedByCancellation();
            assertThat(nextTaskSees(executor)).isEqualTo("interrupted=false cancelled=false");
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void completableFutureCancelAndCompleteOnTimeoutStopTheAsyncStage() throws Exception {
        ExecutorService executor = Executors.newFixedThreadPool(1);
        try {
            Spinner cancelled = new Spinner();
            CompletableFuture<String> future = Cancellable.supplyAsync(cancelled::spin, executor);
            CompletableFuture<String> derived = future.thenApply(s -> s + "!");
            cancelled.awaitStarted();
            assertThat(future.cancel(true)).isTrue();
            cancelled.assertStoppedByCancellation();
            assertThatThrownBy(derived::join).hasCauseInstanceOf(CancellationException.class);

            Spinner timedOut = new Spinner();
            CompletableFuture<String> fallback = Cancellable.supplyAsync(timedOut::spin, executor)
                    .completeOnTimeout("fallback", 300, TimeUnit.MILLISECONDS);
            assertThat(fallback.get(LIVENESS_SECONDS, TimeUnit.SECONDS)).isEqualTo("fallback");
            timedOut.assertStoppedByCancellation();

            assertThat(Cancellable.supplyAsync(() -> "value", executor).thenApply(s -> s + "!").get()).isEqualTo("value!");
            assertThat(nextTaskSees(executor)).isEqualTo("interrupted=false cancelled=false");
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    @EnabledForJreRange(min = JRE.JAVA_21)
    void virtualThreadTasksStopOnCancel() throws Exception {
        ExecutorService executor = Cancellable.executor(virtualThreadPerTask());
        try {
            Spinner spinner = new Spinner();
            Future<String> future = executor.submit(spinner.task());
            spinner.awaitStarted();
            future.cancel(true);
            spinner.assertStoppedByCancellation();
            assertThat(executor.invokeAll(List.of(new Spinner().task()), 200, TimeUnit.MILLISECONDS).get(0).isCancelled()).isTrue();
        } finally {
            executor.shutdownNow();
        }
    }
}
