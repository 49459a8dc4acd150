package dev.usethread.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.usethread.CancelledSignal;
import java.lang.reflect.Field;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The runtime half of "cancellation follows the work", driven by hand the way the agent's hooks
 * drive it (no agent in unit tests): a token captured in a scope, a pool thread that enters it.
 */
class InheritanceTest {
    private static final long LIVENESS_SECONDS = 20;
    private static final ExecutorService POOL = Executors.newSingleThreadExecutor();

    @AfterAll
    static void shutdown() {
        POOL.shutdownNow();
    }

    /** A task as the agent hands it over: captured on the submitting thread, entered on the pool thread. */
    private static Future<Object> handOff(Object token, java.util.concurrent.Callable<Object> body) {
        return POOL.submit(() -> {
            Object handle = Inheritance.enter(token);
            try {
                return body.call();
            } finally {
                Inheritance.exit(handle);
            }
        });
    }

    private static Object captureIn(CancelScope scope) {
        scope.enter();
        try {
            return Inheritance.capture();
        } finally {
            scope.exit();
        }
    }

    @Test
    void outsideAnyScopeThereIsNothingToCaptureAndNothingToEnter() {
        assertThat(Inheritance.capture()).isNull();
        assertThat(Inheritance.enter(null)).isNull();
        Inheritance.exit(null);
        assertThatThrownBy(() -> Inheritance.enter("token?")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("token?");
    }

    @Test
    void cancellingTheCapturedScopeStopsTheTaskAndLeavesThePoolThreadClean() throws Exception {
        CancelScope job = new CancelScope("job", true);
        Object token = captureIn(job);
        assertThat(token).isNotNull();
        CountDownLatch running = new CountDownLatch(1);
        Future<Object> task = handOff(token, () -> {
            running.countDown();
            while (true) {
                Poll.poll(); // what the agent weaves into the task's loop
            }
        });
        assertThat(running.await(LIVENESS_SECONDS, TimeUnit.SECONDS)).isTrue();
        job.cancel();
        assertThatThrownBy(() -> task.get(LIVENESS_SECONDS, TimeUnit.SECONDS)).hasCauseInstanceOf(CancelledSignal.class)
                .hasStackTraceContaining("job, in work it handed to another thread, was cancelled");
        // The next task on the same thread: no interrupt, no cancellation, polls do not throw.
        assertThat(POOL.submit(() -> {
            Poll.poll();
            Poll.checkpoint();
            return Thread.currentThread().isInterrupted() || CancelScope.currentThreadCancelled();
        }).get(LIVENESS_SECONDS, TimeUnit.SECONDS)).isFalse();
        assertThat(actions(job)).isNull(); // the cancel ran them
    }

    @Test
    void aTaskOfAnAlreadyCancelledScopeIsCancelledAtOnce() throws Exception {
        CancelScope job = new CancelScope("job", true);
        Object token = captureIn(job);
        job.cancel();
        assertThatThrownBy(() -> handOff(token, () -> {
            Poll.checkpoint();
            return "ran";
        }).get(LIVENESS_SECONDS, TimeUnit.SECONDS)).hasCauseInstanceOf(CancelledSignal.class);
    }

    @Test
    void anEnclosingScopeOfTheSubmitterCancelsTheTaskToo() throws Exception {
        CancelScope job = new CancelScope("job", true);
        CancelScope deadline = new CancelScope("deadline", true);
        job.enter();
        deadline.enter();
        Object token = Inheritance.capture();
        deadline.exit();
        job.exit();
        CountDownLatch running = new CountDownLatch(1);
        Future<Object> task = handOff(token, () -> {
            running.countDown();
            while (true) {
                Poll.checkpoint();
                Thread.onSpinWait();
            }
        });
        assertThat(running.await(LIVENESS_SECONDS, TimeUnit.SECONDS)).isTrue();
        job.cancel();
        assertThatThrownBy(() -> task.get(LIVENESS_SECONDS, TimeUnit.SECONDS)).hasCauseInstanceOf(CancelledSignal.class);
        assertThat(deadline.isSet()).isFalse();
    }

    @Test
    void finishedTasksLeaveNoCancelActionBehind() throws Exception {
        CancelScope job = new CancelScope("job", true);
        Object token = captureIn(job);
        for (int i = 0; i < 10_000; i++) {
            Object handle = Inheritance.enter(token);
            Inheritance.exit(handle);
        }
        assertThat(actions(job)).isEmpty();
        job.cancel(); // nothing left to run
        assertThat(CancelScope.currentThreadCancelled()).isFalse();
    }

    @Test
    void aTaskRunByTheThreadThatForkedItEntersNothing() {
        CancelScope job = new CancelScope("job", true);
        job.enter();
        try {
            assertThat(Inheritance.enter(Inheritance.capture())).isNull();
        } finally {
            job.exit();
        }
    }

    @Test
    void shieldedAndDetachedSubmissionsDoNotInherit() {
        CancelScope job = new CancelScope("job", true);
        job.enter();
        try {
            try (CancelScope.Shield shielded = CancelScope.shield()) {
                assertThat(Inheritance.capture()).as("from a shielded region").isNull();
            }
            AtomicReference<Object> token = new AtomicReference<>("unset");
            Inheritance.runDetached(() -> token.set(Inheritance.capture()));
            assertThat(token.get()).as("detached").isNull();
            assertThat(Inheritance.capture()).as("after the detached submission").isNotNull();
        } finally {
            job.exit();
        }
    }

    @Test
    void theWorkerLoopHookStopsAPlainRunnableWithoutKillingTheWorker() throws Exception {
        CancelScope job = new CancelScope("job", true);
        CountDownLatch running = new CountDownLatch(1);
        AtomicReference<Throwable> escaped = new AtomicReference<>();
        Runnable task = () -> {
            running.countDown();
            while (true) {
                Poll.checkpoint();
                Thread.onSpinWait();
            }
        };
        job.enter();
        Inheritance.captureFor(task); // what ThreadPoolExecutor.execute does with the agent
        job.exit();
        Thread worker = new Thread(() -> {
            try {
                Inheritance.run(task); // what the agent makes of runWorker's task.run()
            } catch (Throwable t) {
                escaped.set(t);
            }
        });
        worker.start();
        assertThat(running.await(LIVENESS_SECONDS, TimeUnit.SECONDS)).isTrue();
        job.cancel();
        worker.join(TimeUnit.SECONDS.toMillis(LIVENESS_SECONDS));
        assertThat(worker.isAlive()).isFalse();
        assertThat(escaped.get()).as("the signal ends the task, not the worker").isNull();
        assertThat(Inheritance.pendingTokens()).isZero();
    }

    @Test
    void aTaskSubmittedAgainOutsideAnyScopeRunsUntouched() {
        CancelScope job = new CancelScope("job", true);
        Runnable task = () -> Poll.checkpoint();
        job.enter();
        Inheritance.captureFor(task);
        job.exit();
        job.cancel();
        Inheritance.captureFor(task); // resubmitted by a thread in no scope: the old token is dropped
        Inheritance.run(task);
        assertThat(Inheritance.pendingTokens()).isZero();
    }

    @SuppressWarnings("unchecked")
    private static List<Runnable> actions(CancelScope scope) throws ReflectiveOperationException {
        Field f = CancelScope.class.getDeclaredField("onCancel");
        f.setAccessible(true);
        synchronized (lockOf(scope)) {
            return (List<Runnable>) f.get(scope);
        }
    }

    private static Object lockOf(CancelScope scope) throws ReflectiveOperationException {
        Field f = CancelScope.class.getDeclaredField("lock");
        f.setAccessible(true);
        return f.get(scope);
    }
}
