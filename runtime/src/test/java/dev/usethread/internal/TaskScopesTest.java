package dev.usethread.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usethread.Cancellation;
import dev.usethread.CancelledSignal;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The executors=intrusive hooks driven by hand the way the woven FutureTask and CompletableFuture
 * drive them (no agent in unit tests): the body runs through {@link TaskScopes#call}, the cancel's
 * interrupt goes through {@link TaskScopes#cancel}, and the body polls as woven code does.
 */
class TaskScopesTest {
    private static final long LIVENESS_SECONDS = 20;
    private static final ExecutorService POOL = Executors.newSingleThreadExecutor();

    @AfterAll
    static void shutdown() {
        POOL.shutdownNow();
    }

    private static String nextTaskSees() throws Exception {
        return POOL.submit(() -> {
            Poll.poll();
            return "interrupted=" + Thread.currentThread().isInterrupted() + " cancelled=" + Cancellation.isCancelled();
        }).get(LIVENESS_SECONDS, TimeUnit.SECONDS);
    }

    @Test
    void cancelTrueOfARunningBodyStopsItAndThePoolThreadIsClean() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        AtomicReference<Throwable> stoppedBy = new AtomicReference<>();
        AtomicReference<FutureTask<Object>> self = new AtomicReference<>();
        AtomicReference<Thread> runner = new AtomicReference<>();
        FutureTask<Object> task = new FutureTask<>(() -> {
            runner.set(Thread.currentThread());
            return TaskScopes.call(() -> PollingSpin.spin(started, stoppedBy), self.get());
        });
        self.set(task);
        POOL.execute(task);
        assertThat(started.await(LIVENESS_SECONDS, TimeUnit.SECONDS)).isTrue();
        assertThat(task.cancel(false)).isTrue(); // the state change of cancel(true) ...
        TaskScopes.cancel(runner.get(), task); // ... and its woven interrupt
        assertThat(nextTaskSees()).isEqualTo("interrupted=false cancelled=false");
        assertThat(stoppedBy.get()).isInstanceOf(CancelledSignal.class).hasMessageContaining("executors=intrusive");
        assertThat(TaskScopes.running()).isZero();
    }

    @Test
    void cancelTrueBeforeTheBodysScopeIsRegisteredStillStopsIt() throws Exception {
        CountDownLatch cancelled = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        AtomicReference<Throwable> stoppedBy = new AtomicReference<>();
        AtomicReference<FutureTask<Object>> self = new AtomicReference<>();
        FutureTask<Object> task = new FutureTask<>(() -> {
            // The runner is set, the body not yet in the table: the cancel comes now.
            FutureTask<Object> me = self.get();
            me.cancel(false);
            TaskScopes.cancel(Thread.currentThread(), me); // finds no scope: interrupts, as the JDK does
            cancelled.countDown();
            return TaskScopes.call(() -> PollingSpin.spin(started, stoppedBy), me);
        });
        self.set(task);
        POOL.execute(task);
        assertThat(cancelled.await(LIVENESS_SECONDS, TimeUnit.SECONDS)).isTrue();
        assertThat(nextTaskSees()).isEqualTo("interrupted=false cancelled=false");
        assertThat(stoppedBy.get()).isInstanceOf(CancelledSignal.class);
        assertThat(TaskScopes.running()).isZero();
    }

    @Test
    void completingACompletableFutureFirstStopsItsAsyncBody() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        AtomicReference<Throwable> stoppedBy = new AtomicReference<>();
        CompletableFuture<Object> future = new CompletableFuture<>();
        POOL.execute(() -> {
            try {
                future.complete(TaskScopes.supply(() -> PollingSpin.spin(started, stoppedBy), future));
            } catch (Throwable t) {
                future.completeExceptionally(t);
            }
        });
        assertThat(started.await(LIVENESS_SECONDS, TimeUnit.SECONDS)).isTrue();
        future.completeOnTimeout("fallback", 1, TimeUnit.MILLISECONDS);
        assertThat(future.get(LIVENESS_SECONDS, TimeUnit.SECONDS)).isEqualTo("fallback");
        TaskScopes.completed(future); // what the woven postComplete() does
        assertThat(nextTaskSees()).isEqualTo("interrupted=false cancelled=false");
        assertThat(stoppedBy.get()).isInstanceOf(CancelledSignal.class);
        // A body whose future completed before it started stops at once.
        CompletableFuture<Object> done = CompletableFuture.completedFuture("x");
        AtomicReference<Throwable> early = new AtomicReference<>();
        POOL.submit(() -> {
            try {
                TaskScopes.run(() -> Poll.poll(), done);
            } catch (Throwable t) {
                early.set(t);
            }
        }).get(LIVENESS_SECONDS, TimeUnit.SECONDS);
        assertThat(early.get()).isInstanceOf(CancelledSignal.class);
        assertThat(nextTaskSees()).isEqualTo("interrupted=false cancelled=false");
        assertThat(TaskScopes.running()).isZero();
    }
}
