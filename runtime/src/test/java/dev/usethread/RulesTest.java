package dev.usethread;

import static dev.usethread.ResultState.CANCELLED;
import static dev.usethread.ResultState.FINISHED;
import static dev.usethread.ResultState.RUNNING;
import static dev.usethread.ResultState.STARTING;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** One test per rule of DESIGN.md ("Runtime semantics"), including the fixes over the seed. */
class RulesTest {

    @Test
    void onlyTheOwnerRunMayChangeTheJob_aSupersededRunsLateValueNeverShows() throws Exception {
        TransitionsTest.Stubborn first = new TransitionsTest.Stubborn();
        AtomicInteger run = new AtomicInteger();
        UseThread<String> job = UseThread.options().intrusive(false).useThread(cancel -> {
            if (run.incrementAndGet() == 1) {
                first.run(cancel);
                return "late value of run 1";
            }
            return "run " + run.get();
        });
        first.entered.await();
        Recorder<String> rec = new Recorder<>();
        job.subscribe(rec);
        job.retry();
        first.release.countDown();
        Result<String> done = job.await(Recorder.LIVENESS);
        assertThat(done.value()).isEqualTo("run 2");
        job.close();
        assertThat(rec.snapshots()).extracting(Result::value).doesNotContain("late value of run 1");
        assertThat(job.result().value()).isEqualTo("run 2");
    }

    @Test
    void aDependencyChangeIsVisibleAtOnce() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        UseThread<String> job = UseThread.options().dependencies("a").useThread(() -> {
            if (runs.incrementAndGet() > 1) {
                release.await();
            }
            return "value " + runs.get();
        });
        assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(FINISHED);
        Result<String> changed = job.setDependencies("b");
        assertThat(changed.state()).isEqualTo(STARTING);
        assertThat(changed.value()).as("the previous value stays visible while restarting").isEqualTo("value 1");
        assertThat(job.result().state()).isIn(STARTING, ResultState.WAITING, RUNNING);
        release.countDown();
        assertThat(job.await(Recorder.LIVENESS).value()).isEqualTo("value 2");
        job.close();
    }

    @Test
    void equalDependenciesDoNotRestart() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        UseThread<Integer> job = UseThread.options().dependencies("q", new int[] {1, 2})
                .useThread(calls::incrementAndGet);
        job.await(Recorder.LIVENESS);
        Result<Integer> same = job.setDependencies("q", new int[] {1, 2});
        assertThat(same.state()).isEqualTo(FINISHED);
        assertThat(same.run()).isEqualTo(1);
        assertThat(calls.get()).isEqualTo(1);
        job.close();
    }

    @Test
    void burstsOfRestartsCoalesce_supersededWaitingRunsNeverCallBack() throws Exception {
        TransitionsTest.Stubborn first = new TransitionsTest.Stubborn();
        AtomicInteger calls = new AtomicInteger();
        UseThread<Integer> job = UseThread.options().intrusive(false).useThread(cancel -> {
            if (calls.incrementAndGet() == 1) {
                first.run(cancel);
            }
            return calls.get();
        });
        first.entered.await();
        for (int i = 0; i < 20; i++) {
            job.setDependencies(i);
        }
        first.release.countDown();
        Result<Integer> done = job.await(Recorder.LIVENESS);
        assertThat(done.state()).isEqualTo(FINISHED);
        assertThat(done.run()).isEqualTo(21);
        assertThat(calls.get()).as("only the first and the last run call back").isEqualTo(2);
        job.close();
    }

    @Test
    void cancellationIsSticky_catchThrowableCannotKeepTheJobAlive() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        AtomicInteger swallowed = new AtomicInteger();
        UseThread<String> job = UseThread.useThread(() -> {
            while (true) {
                // The poll at the loop head is where the agent's back-edge poll goes.
                Cancellation.checkpoint();
                try {
                    entered.countDown();
                    while (true) {
                        Cancellation.checkpoint();
                    }
                } catch (Throwable t) {
                    swallowed.incrementAndGet(); // a careless library keeps going
                }
            }
        });
        entered.await();
        job.cancel();
        assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(CANCELLED);
        assertThat(swallowed.get()).isGreaterThanOrEqualTo(1);
        job.close();
    }

    @Test
    void cancelInterruptsSoSleepWaitAndParkWakeUp() throws Exception {
        for (String how : List.of("sleep", "wait", "park")) {
            CountDownLatch entered = new CountDownLatch(1);
            Object monitor = new Object();
            UseThread<String> job = UseThread.useThread(() -> {
                entered.countDown();
                switch (how) {
                    case "sleep":
                        Thread.sleep(TimeUnit.HOURS.toMillis(1));
                        break;
                    case "wait":
                        synchronized (monitor) {
                            monitor.wait();
                        }
                        break;
                    default:
                        while (true) {
                            java.util.concurrent.locks.LockSupport.park();
                            Cancellation.checkpoint();
                        }
                }
                return "woke without cancellation";
            });
            entered.await();
            job.cancel();
            Result<String> r = job.await(Recorder.LIVENESS);
            assertThat(r.state()).as(how).isEqualTo(CANCELLED);
            assertThat(r.value()).as(how).isNull();
            job.close();
        }
    }

    @Test
    void nonIntrusiveJobsAreNotInterrupted() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        AtomicBoolean interrupted = new AtomicBoolean();
        UseThread<String> job = UseThread.options().intrusive(false).useThread(cancel -> {
            entered.countDown();
            while (!cancel.isSet()) {
                Thread.onSpinWait();
            }
            interrupted.set(Thread.currentThread().isInterrupted());
            return "saw the event";
        });
        entered.await();
        job.cancel();
        assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(CANCELLED);
        assertThat(interrupted.get()).isFalse();
        job.close();
    }

    @Test
    void aValueReturnedAfterCancellationIsDiscarded() throws Exception {
        UseThread<String> job = UseThread.useThread(() -> "first");
        job.await(Recorder.LIVENESS);
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch cancelled = new CountDownLatch(1);
        UseThread<String> job2 = UseThread.options().intrusive(false).useThread(cancel -> {
            entered.countDown();
            cancelled.await();
            return "returned after cancel";
        });
        entered.await();
        job2.cancel();
        cancelled.countDown();
        Result<String> r = job2.await(Recorder.LIVENESS);
        assertThat(r.state()).isEqualTo(CANCELLED);
        assertThat(r.value()).isNull();
        job.close();
        job2.close();
    }

    @Test
    void cancelledIsPublishedAfterTheCallbackHasReturned() throws Exception {
        AtomicBoolean callbackReturned = new AtomicBoolean();
        AtomicReference<Boolean> seenAtCancelled = new AtomicReference<>();
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch delivered = new CountDownLatch(1);
        UseThread<String> job = UseThread.useThread(() -> {
            entered.countDown();
            try {
                while (true) {
                    Cancellation.checkpoint();
                }
            } finally {
                callbackReturned.set(true);
            }
        });
        job.subscribe(r -> {
            if (r.state() == CANCELLED) {
                seenAtCancelled.set(callbackReturned.get());
                delivered.countDown();
            }
        });
        entered.await();
        job.cancel();
        job.await(Recorder.LIVENESS);
        assertThat(delivered.await(Recorder.LIVENESS.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(seenAtCancelled.get()).isTrue();
        job.close();
    }

    @Test
    void aNewRunKeepsThePreviousValueAndErrorVisible() throws Exception {
        AtomicInteger n = new AtomicInteger();
        CountDownLatch hold = new CountDownLatch(1);
        UseThread<String> job = UseThread.useThread(() -> {
            if (n.incrementAndGet() == 2) {
                throw new IllegalArgumentException("second fails");
            }
            if (n.get() == 3) {
                hold.await();
            }
            return "v" + n.get();
        });
        assertThat(job.await(Recorder.LIVENESS).value()).isEqualTo("v1");
        job.retry();
        Result<String> failed = job.await(Recorder.LIVENESS);
        assertThat(failed.state()).isEqualTo(ResultState.ERROR);
        assertThat(failed.value()).as("a failed run keeps the last value").isEqualTo("v1");
        Result<String> third = job.retry();
        assertThat(third.value()).isEqualTo("v1");
        assertThat(third.error()).isInstanceOf(IllegalArgumentException.class);
        hold.countDown();
        Result<String> ok = job.await(Recorder.LIVENESS);
        assertThat(ok.value()).isEqualTo("v3");
        assertThat(ok.error()).as("a finished run clears the error").isNull();
        job.close();
    }

    @Test
    void staleSnapshotCancelDoesNotStopANewerRun() throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        AtomicInteger n = new AtomicInteger();
        UseThread<Integer> job = UseThread.options().intrusive(false).useThread(cancel -> {
            int me = n.incrementAndGet();
            if (me == 2) {
                hold.await();
            }
            return me;
        });
        Result<Integer> stale = job.await(Recorder.LIVENESS);
        job.retry();
        stale.cancel();
        assertThat(job.result().state()).isIn(STARTING, ResultState.WAITING, RUNNING);
        hold.countDown();
        assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(FINISHED);
        job.close();
    }

    @Test
    void resultRetryRestartsTheJob() throws Exception {
        AtomicInteger n = new AtomicInteger();
        UseThread<Integer> job = UseThread.useThread(n::incrementAndGet);
        Result<Integer> first = job.await(Recorder.LIVENESS);
        assertThat(first.retry().state()).isEqualTo(STARTING);
        assertThat(job.await(Recorder.LIVENESS).value()).isEqualTo(2);
        job.close();
    }

    @Test
    void shieldedRegionDefersTheSignalToTheFirstPollAfterIt() throws Exception {
        CountDownLatch inShield = new CountDownLatch(1);
        CountDownLatch cancelled = new CountDownLatch(1);
        List<String> log = new ArrayList<>();
        UseThread<String> job = UseThread.useThread(() -> {
            Cancellation.shielded(() -> {
                inShield.countDown();
                try {
                    cancelled.await();
                } catch (InterruptedException e) {
                    log.add("interrupted inside shield");
                }
                Cancellation.checkpoint();
                log.add("checkpoint inside shield did not throw");
                log.add("interrupt deferred: " + !Thread.currentThread().isInterrupted());
            });
            try {
                Cancellation.checkpoint();
                log.add("checkpoint after shield did not throw");
            } catch (CancelledSignal s) {
                log.add("signal after shield");
                throw s;
            }
            return "x";
        });
        inShield.await();
        job.cancel();
        cancelled.countDown();
        assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(CANCELLED);
        assertThat(log).containsExactly("checkpoint inside shield did not throw", "interrupt deferred: true",
                "signal after shield");
        job.close();
    }

    @Test
    void onCancelActionsRunOnCancelAndAtOnceWhenRegisteredLate() throws Exception {
        CountDownLatch registered = new CountDownLatch(1);
        AtomicInteger actions = new AtomicInteger();
        AtomicBoolean lateRan = new AtomicBoolean();
        UseThread<String> job = UseThread.options().intrusive(false).useThread(cancel -> {
            cancel.onCancel(actions::incrementAndGet);
            cancel.onCancel(() -> {
                throw new IllegalStateException("a failing action does not stop the others");
            });
            cancel.onCancel(actions::incrementAndGet);
            registered.countDown();
            while (!cancel.isSet()) {
                Thread.onSpinWait();
            }
            cancel.onCancel(() -> lateRan.set(true));
            return "x";
        });
        registered.await();
        job.cancel();
        assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(CANCELLED);
        assertThat(actions.get()).isEqualTo(2);
        assertThat(lateRan.get()).isTrue();
        job.close();
    }

    @Test
    void cancelEventThrowIfSetThrowsCancelledSignal() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        UseThread<String> job = UseThread.options().intrusive(false).useThread(cancel -> {
            entered.countDown();
            while (true) {
                cancel.throwIfSet();
            }
        });
        entered.await();
        job.cancel();
        assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(CANCELLED);
        job.close();
    }

    @Test
    void cancelledSignalIsAnErrorSoCatchExceptionDoesNotSwallowIt() {
        assertThat(new CancelledSignal("x")).isInstanceOf(Error.class).isNotInstanceOf(Exception.class);
    }
}
