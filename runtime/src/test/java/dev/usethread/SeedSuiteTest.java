package dev.usethread;

import static dev.usethread.ResultState.CANCELLED;
import static dev.usethread.ResultState.FINISHED;
import static dev.usethread.ResultState.RUNNING;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The behaviours of the seed's (Solara's use_thread) own test suite. */
class SeedSuiteTest {

    @Test
    void partialValuesAllReachASubscriberInOrderAndTheLastWins() throws Exception {
        GatedThreads threads = new GatedThreads();
        UseThread<Integer> job = UseThread.options().threadFactory(threads).useThread((CancelEvent cancel,
                Emitter<Integer> emit) -> {
            for (int i = 1; i <= 256; i++) {
                emit.emit(i);
            }
        });
        Recorder<Integer> rec = new Recorder<>();
        job.subscribe(rec);
        threads.open();
        Result<Integer> done = job.await(Recorder.LIVENESS);
        rec.awaitState(FINISHED);
        assertThat(done.state()).isEqualTo(FINISHED);
        assertThat(done.value()).isEqualTo(256);
        List<Integer> partials = rec.snapshots().stream().filter(r -> r.state() == RUNNING && r.value() != null)
                .map(Result::value).collect(Collectors.toList());
        assertThat(partials).isEqualTo(IntStream.rangeClosed(1, 256).boxed().collect(Collectors.toList()));
        job.close();
    }

    @Test
    void rerunWithNewDependenciesShowsThePreviousValueWhileRunningThenTheNewOne() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch secondRunning = new CountDownLatch(1);
        UseThread<String> job = UseThread.options().dependencies("a").useThread(cancel -> {
            String dep = "a";
            if (secondRunning.getCount() == 0 || release.getCount() == 1 && cancel != null
                    && Thread.currentThread().getName().endsWith("-2")) {
                dep = "b";
                secondRunning.countDown();
                release.await();
            }
            return "value-" + dep;
        });
        assertThat(job.await(Recorder.LIVENESS).value()).isEqualTo("value-a");
        job.setDependencies("b");
        secondRunning.await();
        Result<String> running = job.result();
        assertThat(running.state()).isEqualTo(RUNNING);
        assertThat(running.value()).isEqualTo("value-a");
        release.countDown();
        assertThat(job.await(Recorder.LIVENESS).value()).isEqualTo("value-b");
        job.close();
    }

    @Test
    void aStreamingJobsPartialValueIsVisibleWhileStillRunning() throws Exception {
        CountDownLatch emitted = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        UseThread<String> job = UseThread.useThread((CancelEvent cancel, Emitter<String> emit) -> {
            emit.emit("partial");
            emitted.countDown();
            release.await();
            emit.emit("final");
        });
        emitted.await();
        Result<String> r = job.result();
        assertThat(r.state()).isEqualTo(RUNNING);
        assertThat(r.value()).isEqualTo("partial");
        release.countDown();
        Result<String> done = job.await(Recorder.LIVENESS);
        assertThat(done.state()).isEqualTo(FINISHED);
        assertThat(done.value()).isEqualTo("final");
        job.close();
    }

    @Test
    void aJobIgnoringItsEventButCallingCheckpointIsStoppedAndRetryRunsItToTheEnd() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        AtomicLong work = new AtomicLong();
        CountDownLatch firstStarted = new CountDownLatch(1);
        UseThread<Long> job = UseThread.useThread(cancel -> {
            long limit = runs.incrementAndGet() == 1 ? Long.MAX_VALUE : 100_000;
            firstStarted.countDown();
            long i = 0;
            while (i < limit) {
                Cancellation.checkpoint();
                i++;
            }
            work.set(i);
            return i;
        });
        firstStarted.await();
        job.cancel();
        assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(CANCELLED);
        job.retry();
        Result<Long> done = job.await(Recorder.LIVENESS);
        assertThat(done.state()).isEqualTo(FINISHED);
        assertThat(done.value()).isEqualTo(100_000L);
        job.close();
    }

    @Test
    void emittingAfterCancellationThrowsEvenWithoutIntrusiveCancel() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        AtomicInteger emitted = new AtomicInteger();
        UseThread<Integer> job = UseThread.options().intrusive(false).useThread((CancelEvent cancel,
                Emitter<Integer> emit) -> {
            started.countDown();
            while (true) {
                emit.emit(emitted.incrementAndGet());
            }
        });
        started.await();
        Recorder.awaitTrue("a value was emitted", () -> job.result().value() != null);
        job.cancel();
        Result<Integer> r = job.await(Recorder.LIVENESS);
        assertThat(r.state()).isEqualTo(CANCELLED);
        assertThat(r.value()).isNotNull().isLessThanOrEqualTo(emitted.get());
        job.close();
    }
}
