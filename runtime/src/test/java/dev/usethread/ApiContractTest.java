package dev.usethread;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledForJreRange;
import org.junit.jupiter.api.condition.JRE;

/** Bad input, listeners, executors, close() and thread factories. */
class ApiContractTest {

    @Test
    void nullCallbacksListenersAndExecutorsAreRejectedNamingTheParameter() throws Exception {
        assertThatThrownBy(() -> UseThread.useThread((Job<String>) null)).isInstanceOf(NullPointerException.class)
                .hasMessage("job");
        assertThatThrownBy(() -> UseThread.useThread((Task<String>) null)).hasMessage("task");
        assertThatThrownBy(() -> UseThread.useThread((StreamingJob<String>) null)).hasMessage("job");
        assertThatThrownBy(() -> UseThread.options().threadFactory(null)).hasMessage("threadFactory");
        assertThatThrownBy(() -> UseThread.options().listenerExecutor(null)).hasMessage("listenerExecutor");
        assertThatThrownBy(() -> UseThread.options().name(null)).hasMessage("name");
        assertThatThrownBy(() -> UseThread.options().name("  ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("name");
        assertThatThrownBy(() -> UseThread.options().closeTimeout(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("closeTimeout")
                .hasMessageContaining("PT-1S");
        UseThread<String> job = UseThread.useThread(() -> "x");
        assertThatThrownBy(() -> job.subscribe(null)).hasMessage("listener");
        assertThatThrownBy(() -> job.subscribe(r -> { }, null)).hasMessage("executor");
        assertThatThrownBy(() -> job.setDependencies((Object[]) null)).hasMessage("dependencies");
        assertThatThrownBy(() -> job.await(Duration.ofMillis(-5))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PT-0.005S");
        assertThatThrownBy(() -> Cancellation.shielded((Runnable) null)).hasMessage("body");
        job.close();
    }

    @Test
    void aThrowingListenerBreaksNeitherTheJobNorOtherListeners() throws Exception {
        UseThread<Integer> job = UseThread.useThread((CancelEvent c, Emitter<Integer> emit) -> {
            for (int i = 0; i < 10; i++) {
                emit.emit(i);
            }
        });
        job.subscribe(r -> {
            throw new IllegalStateException("listener bug");
        });
        Recorder<Integer> rec = new Recorder<>();
        job.retry();
        job.subscribe(rec);
        Result<Integer> done = job.await(Recorder.LIVENESS);
        assertThat(done.state()).isEqualTo(ResultState.FINISHED);
        assertThat(done.value()).isEqualTo(9);
        rec.awaitState(ResultState.FINISHED);
        job.close();
    }

    @Test
    void listenersRunOnTheirExecutorInOrder() throws Exception {
        ExecutorService ui = Executors.newSingleThreadExecutor(r -> new Thread(r, "ui"));
        try {
            List<String> threadNames = new CopyOnWriteArrayList<>();
            Recorder<Integer> rec = new Recorder<>();
            UseThread<Integer> job = UseThread.options().listenerExecutor(ui).useThread((CancelEvent c,
                    Emitter<Integer> emit) -> {
                for (int i = 0; i < 100; i++) {
                    emit.emit(i);
                }
            });
            job.subscribe(r -> threadNames.add(Thread.currentThread().getName()));
            job.subscribe(rec);
            job.await(Recorder.LIVENESS);
            rec.awaitState(ResultState.FINISHED);
            assertThat(threadNames).containsOnly("ui");
            List<Result<Integer>> seen = rec.snapshots();
            for (int i = 1; i < seen.size(); i++) {
                Integer a = seen.get(i - 1).value();
                Integer b = seen.get(i).value();
                if (a != null) {
                    assertThat(b).isGreaterThanOrEqualTo(a);
                }
            }
            job.close();
        } finally {
            ui.shutdownNow();
        }
    }

    @Test
    void closedJobsFailClearlyOrDoNothingAsDocumented() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch neverReleased = new CountDownLatch(1);
        UseThread<String> job = UseThread.options().name("closing").useThread(() -> {
            entered.countDown();
            neverReleased.await(1, TimeUnit.HOURS); // until close() cancels (interrupts) the run
            return "x";
        });
        entered.await();
        job.close();
        assertThat(job.isClosed()).isTrue();
        assertThat(job.result().state()).isEqualTo(ResultState.CANCELLED);
        assertThat(job.cancel().state()).isEqualTo(ResultState.CANCELLED);
        job.close(); // idempotent
        assertThat(job.await(Duration.ZERO).state()).isEqualTo(ResultState.CANCELLED);
        assertThatThrownBy(job::retry).isInstanceOf(IllegalStateException.class).hasMessageContaining("'closing'")
                .hasMessageContaining("closed");
        assertThatThrownBy(() -> job.setDependencies(1)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> job.subscribe(r -> { })).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void closeLeavesNoThreadAlive() throws Exception {
        GatedThreads threads = new GatedThreads();
        CountDownLatch entered = new CountDownLatch(1);
        UseThread<String> job = UseThread.options().threadFactory(threads).intrusive(false).useThread(cancel -> {
            entered.countDown();
            while (!cancel.isSet()) {
                Thread.onSpinWait();
            }
            return "x";
        });
        threads.open();
        entered.await();
        for (int i = 0; i < 5; i++) {
            job.retry();
        }
        job.close();
        assertThat(threads.created).hasSize(6).allSatisfy(t -> assertThat(t.isAlive()).isFalse());
    }

    @Test
    void closeReportsAThreadThatWillNotStop() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch entered = new CountDownLatch(1);
        UseThread<String> job = UseThread.options().name("stuck").intrusive(false)
                .closeTimeout(Duration.ofMillis(50)).useThread(cancel -> {
                    entered.countDown();
                    release.await();
                    return "x";
                });
        entered.await();
        assertThatThrownBy(job::close).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("did not stop within PT0.05S").hasCauseInstanceOf(Throwable.class);
        release.countDown();
        assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(ResultState.CANCELLED);
    }

    @Test
    void awaitTimesOutWithAClearMessage() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        UseThread<String> job = UseThread.options().name("slow").useThread(() -> {
            release.await();
            return "x";
        });
        assertThatThrownBy(() -> job.await(Duration.ofMillis(20))).isInstanceOf(TimeoutException.class)
                .hasMessageContaining("'slow'").hasMessageContaining("PT0.02S");
        release.countDown();
        job.close();
    }

    @Test
    void aThreadFactoryThatFailsGivesAnErrorState() throws Exception {
        ThreadFactory broken = r -> null;
        UseThread<String> job = UseThread.options().threadFactory(broken).useThread(() -> "x");
        Result<String> r = job.await(Recorder.LIVENESS);
        assertThat(r.state()).isEqualTo(ResultState.ERROR);
        assertThat(r.error()).hasMessageContaining("ThreadFactory").hasMessageContaining("returned null");
        job.close();
    }

    @Test
    void cancellationWithoutTheAgentIsCooperative() {
        assertThat(Cancellation.isIntrusive()).isFalse();
        Cancellation.checkpoint(); // no run on this thread: nothing happens
        assertThat(Cancellation.isCancelled()).isFalse();
    }

    @Test
    @EnabledForJreRange(min = JRE.JAVA_21)
    void jobsRunOnVirtualThreadsAndSleepIsCancelled() throws Exception {
        Method ofVirtual = Thread.class.getMethod("ofVirtual");
        Object builder = ofVirtual.invoke(null);
        ThreadFactory virtual = (ThreadFactory) Class.forName("java.lang.Thread$Builder").getMethod("factory")
                .invoke(builder);
        AtomicInteger virtualRuns = new AtomicInteger();
        CountDownLatch entered = new CountDownLatch(1);
        UseThread<String> job = UseThread.options().threadFactory(virtual).useThread(() -> {
            if ((Boolean) Thread.class.getMethod("isVirtual").invoke(Thread.currentThread())) {
                virtualRuns.incrementAndGet();
            }
            entered.countDown();
            Thread.sleep(TimeUnit.HOURS.toMillis(1));
            return "x";
        });
        entered.await();
        job.cancel();
        assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(ResultState.CANCELLED);
        assertThat(virtualRuns.get()).isEqualTo(1);
        job.close();
    }
}
