package dev.usethread;

import static dev.usethread.ResultState.CANCELLED;
import static dev.usethread.ResultState.ERROR;
import static dev.usethread.ResultState.FINISHED;
import static dev.usethread.ResultState.INITIAL;
import static dev.usethread.ResultState.RUNNING;
import static dev.usethread.ResultState.STARTING;
import static dev.usethread.ResultState.WAITING;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** One test per transition of the table in DESIGN.md. */
class TransitionsTest {

    /** A callback that ignores cancellation until released (cooperative job that never checks). */
    static final class Stubborn {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger calls = new AtomicInteger();

        String run(CancelEvent cancel) throws InterruptedException {
            calls.incrementAndGet();
            entered.countDown();
            while (!release.await(10, TimeUnit.MILLISECONDS)) {
                Thread.interrupted(); // swallow interrupts, as careless code does
            }
            return "stubborn";
        }
    }

    @Test
    void initialToStartingToRunningToFinished() throws Exception {
        GatedThreads threads = new GatedThreads();
        UseThread<String> job = UseThread.options().threadFactory(threads).useThread(cancel -> "done");
        Recorder<String> rec = new Recorder<>();
        job.subscribe(rec);
        assertThat(job.result().state()).isEqualTo(STARTING);
        threads.open();
        Result<String> finished = job.await(Recorder.LIVENESS);
        assertThat(finished.state()).isEqualTo(FINISHED);
        assertThat(finished.value()).isEqualTo("done");
        rec.awaitState(FINISHED);
        assertThat(rec.states()).containsExactly(STARTING, RUNNING, FINISHED);
        job.close();
    }

    @Test
    void snapshotBeforeStartIsInitialAndRunZero() {
        // The factory starts the job at once; INITIAL belongs to run 0, before any start.
        GatedThreads threads = new GatedThreads();
        UseThread<String> job = UseThread.options().threadFactory(threads).useThread(() -> "x");
        assertThat(job.result().run()).isEqualTo(1);
        assertThat(INITIAL.isTerminal()).isFalse();
        threads.open();
        job.close();
    }

    @Test
    void runningToError() throws Exception {
        IllegalStateException boom = new IllegalStateException("boom");
        UseThread<String> job = UseThread.useThread(() -> {
            throw boom;
        });
        Result<String> r = job.await(Recorder.LIVENESS);
        assertThat(r.state()).isEqualTo(ERROR);
        assertThat(r.error()).isSameAs(boom);
        job.close();
    }

    @Test
    void startingToWaitingToRunningWhenEarlierRunIsStillAlive() throws Exception {
        Stubborn first = new Stubborn();
        AtomicInteger secondCalls = new AtomicInteger();
        AtomicInteger run = new AtomicInteger();
        UseThread<String> job = UseThread.options().intrusive(false).useThread(cancel -> {
            if (run.incrementAndGet() == 1) {
                return first.run(cancel);
            }
            secondCalls.incrementAndGet();
            return "second";
        });
        first.entered.await();
        Recorder<String> rec = new Recorder<>();
        job.subscribe(rec);
        Result<String> restarted = job.retry();
        assertThat(restarted.state()).isEqualTo(STARTING);
        rec.awaitState(WAITING);
        assertThat(secondCalls.get()).as("the new run must not call back while the old one runs").isZero();
        first.release.countDown();
        Result<String> done = job.await(Recorder.LIVENESS);
        assertThat(done.state()).isEqualTo(FINISHED);
        assertThat(done.value()).isEqualTo("second");
        rec.awaitState(FINISHED);
        assertThat(rec.states()).containsSubsequence(RUNNING, STARTING, WAITING, RUNNING, FINISHED);
        job.close();
    }

    @Test
    void startingToCancelledNeverCallsTheCallback() throws Exception {
        GatedThreads threads = new GatedThreads();
        AtomicInteger calls = new AtomicInteger();
        UseThread<String> job = UseThread.options().threadFactory(threads).useThread(() -> {
            calls.incrementAndGet();
            return "x";
        });
        job.cancel();
        assertThat(job.result().state()).as("cancelled means stopped, not asked to stop").isEqualTo(STARTING);
        threads.open();
        assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(CANCELLED);
        assertThat(calls.get()).isZero();
        job.close();
    }

    @Test
    void cancelWhileWaitingStopsTheWaitingRunAtOnceWithoutCallingBack() throws Exception {
        Stubborn first = new Stubborn();
        AtomicInteger run = new AtomicInteger();
        UseThread<String> job = UseThread.options().intrusive(false).useThread(cancel -> {
            if (run.incrementAndGet() == 1) {
                return first.run(cancel);
            }
            return "second";
        });
        first.entered.await();
        Recorder<String> rec = new Recorder<>();
        job.subscribe(rec);
        job.retry();
        rec.awaitState(WAITING);
        job.cancel();
        // The first run is still stuck in its callback, yet the waiting run is CANCELLED at once.
        assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(CANCELLED);
        assertThat(first.release.getCount()).isEqualTo(1);
        assertThat(run.get()).as("the waiting run never called the callback").isEqualTo(1);
        first.release.countDown();
        job.close();
        assertThat(run.get()).isEqualTo(1);
    }

    @Test
    void runningToCancelledOnlyOnceTheCallbackHasStopped() throws Exception {
        Stubborn stubborn = new Stubborn();
        UseThread<String> job = UseThread.options().intrusive(false).useThread(stubborn::run);
        stubborn.entered.await();
        job.cancel();
        assertThat(job.result().state()).isEqualTo(RUNNING);
        assertThat(job.result().state()).isEqualTo(RUNNING);
        stubborn.release.countDown();
        Result<String> r = job.await(Recorder.LIVENESS);
        assertThat(r.state()).isEqualTo(CANCELLED);
        assertThat(r.value()).as("a value returned after cancellation is discarded").isNull();
        job.close();
    }

    @Test
    void anyStateToStartingOnRetryAndOnDependencyChange() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        UseThread<Integer> job = UseThread.options().dependencies(1).useThread(calls::incrementAndGet);
        assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(FINISHED);
        assertThat(job.retry().state()).isEqualTo(STARTING);
        assertThat(job.await(Recorder.LIVENESS).value()).isEqualTo(2);
        assertThat(job.setDependencies(2).state()).isEqualTo(STARTING);
        assertThat(job.await(Recorder.LIVENESS).value()).isEqualTo(3);
        job.cancel();
        assertThat(job.result().state()).as("cancel after the end changes nothing").isEqualTo(FINISHED);
        assertThat(job.retry().state()).isEqualTo(STARTING);
        job.close();
    }
}
