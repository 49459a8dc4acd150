package dev.usethread.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usethread.CancelledSignal;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * Targeted arming: a cancellation arms the poll groups of the code in the cancelled thread's stack,
 * not the others, and falls back to arming every site when the targeted ones do not stop the thread.
 * The loops call GroupPolls as woven code of their class would.
 */
class ArmingTest {
    private static final Duration LIVENESS = Duration.ofSeconds(30);

    /** A loop whose class is on its thread's stack: its group's poll, as the agent weaves it. */
    static final class VictimLoop {
        static final AtomicLong SPINS = new AtomicLong();

        static void spin(MethodHandle poll) throws Throwable {
            spinCounting(SPINS, poll);
        }
    }

    /** The loop of VictimLoop and OtherLoop, whose frames (and so groups) stay on the stack above it. */
    private static void spinCounting(AtomicLong spins, MethodHandle poll) throws Throwable {
        while (true) {
            spins.incrementAndGet();
            poll.invokeExact();
        }
    }

    @Test
    void recurringCancellationsLengthenTheQuietPeriodToOutlastTheirCalms() {
        long base = 5_000;
        long max = 60_000;
        assertThat(Arming.nextQuiet(base, 0, true, base, max)).as("the first armed period").isEqualTo(base);
        // A deadline 7 s after the disarm: the calm was 5 + 7 s, the next one waits 48 s.
        assertThat(Arming.nextQuiet(base, 7_000, false, base, max)).isEqualTo(48_000);
        // Right after the disarm: at least double.
        assertThat(Arming.nextQuiet(base, 10, false, base, max)).isEqualTo(20_040);
        assertThat(Arming.nextQuiet(48_000, 30_000, false, base, max)).as("never past the maximum").isEqualTo(max);
        // Ten quiet periods or more after the disarm, cancellations are rare again: the base.
        assertThat(Arming.nextQuiet(base, 50_000, false, base, max)).isEqualTo(base);
        assertThat(Arming.nextQuiet(max, 599_999, false, base, max)).isEqualTo(max);
        assertThat(Arming.nextQuiet(max, 600_000, false, base, max)).isEqualTo(base);
    }

    @Test
    void aCancellationArmsTheGroupsOfTheCancelledThreadsStackOnly() throws Exception {
        int victimGroup = PollGroup.of(VictimLoop.class.getName());
        int otherGroup = groupOtherThan(victimGroup, ArmingTest.class.getName(), Thread.class.getName());
        PollTest.waitFor(() -> !Poll.isArmed(), Duration.ofSeconds(90)); // other tests' groups disarmed
        AtomicReference<Throwable> ended = runCancelled(groupPoll("p", victimGroup), "targeted");
        assertThat(ended.get()).isInstanceOf(CancelledSignal.class);
        // Sites stay armed until a quiet period (1 s or more) after the stop.
        assertThat(Poll.isGroupArmed(victimGroup)).as("the group of the loop on the stack").isTrue();
        assertThat(Poll.isGroupArmed(otherGroup)).as("a group with no frame on the cancelled thread's stack")
                .isFalse();
        assertThat(Poll.isGloballyArmed()).as("the loop stopped without the global fallback").isFalse();
        PollTest.waitFor(() -> !Poll.isArmed(), Duration.ofSeconds(90));
        assertThat(Poll.isGroupArmed(victimGroup)).isFalse();
    }

    /** A second loop, in a class of another group than VictimLoop's. */
    static final class OtherLoop {
        static final AtomicLong SPINS = new AtomicLong();

        static void spin(MethodHandle poll) throws Throwable {
            spinCounting(SPINS, poll);
        }
    }

    @Test
    void aThreadCancelledAgainInCodeNotArmedIsStillStoppedByItsOwnGroup() throws Exception {
        // While the groups armed for a thread's previous cancellation are still armed, its stack trace
        // waits for the first look (a thread cancelled again and again mostly runs the same code); a
        // loop of a group not armed must still be found there and stopped by its own group.
        int first = PollGroup.of(VictimLoop.class.getName());
        int second = PollGroup.of(OtherLoop.class.getName());
        assertThat(second).as("the two loops' groups").isNotEqualTo(first);
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> new Thread(r, "arming-test-worker"));
        try {
            for (int attempt = 0; ; attempt++) {
                PollTest.waitFor(() -> !Poll.isArmed(), Duration.ofSeconds(90));
                assertThat(runCancelled(VictimLoop.SPINS, VictimLoop::spin, groupPoll("p", first), () -> true, worker)
                        .get()).isInstanceOf(CancelledSignal.class);
                AtomicReference<Throwable> ended = runCancelled(OtherLoop.SPINS, OtherLoop::spin,
                        groupPoll("p", second), () -> Poll.isGroupArmed(first), worker);
                if (ended == null) { // the first group's quiet period ended before the cancel: try again
                    assertThat(attempt).as("attempts on a machine too slow to cancel within the quiet period")
                            .isLessThan(5);
                    continue;
                }
                assertThat(ended.get()).isInstanceOf(CancelledSignal.class);
                assertThat(Poll.isGroupArmed(second)).as("the second loop's group").isTrue();
                assertThat(Poll.isGloballyArmed()).as("stopped without the global fallback").isFalse();
                return;
            }
        } finally {
            worker.shutdown();
            assertThat(worker.awaitTermination(LIVENESS.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        }
    }

    /** Work a thread does after its cancelled scope, in a class of a group of its own. */
    static final class NextWork {
        static final AtomicLong SPINS = new AtomicLong();
        static volatile boolean done;

        static void spin() {
            while (!done) {
                SPINS.incrementAndGet();
            }
        }
    }

    @Test
    void aThreadThatStoppedBeforeItsStackTraceGetsNoneOfItsNextWorkArmed() throws Exception {
        // A worker stops (here through a hand-written poll, whose site is armed before the trace is
        // taken) and goes on to its next request before the arming thread gets to its stack trace:
        // the trace shows that request's code, which was never cancelled and must not be armed.
        int nextGroup = PollGroup.of(NextWork.class.getName());
        assertThat(nextGroup).as("the next work's group").isNotEqualTo(PollGroup.of(ArmingTest.class.getName()));
        PollTest.waitFor(() -> !Poll.isArmed(), Duration.ofSeconds(90)); // a new epoch: the first look takes the trace
        NextWork.done = false;
        AtomicReference<Throwable> ended = new AtomicReference<>();
        CancelScope scope = new CancelScope("arming test", true);
        CountDownLatch entered = new CountDownLatch(1);
        Thread worker = new Thread(() -> {
            scope.enter();
            entered.countDown();
            try {
                while (true) {
                    VictimLoop.SPINS.incrementAndGet();
                    Poll.poll();
                }
            } catch (Throwable signal) {
                ended.set(signal);
            } finally {
                scope.exit();
            }
            NextWork.spin();
        }, "arming-test-next-work");
        long before = NextWork.SPINS.get();
        AtomicReference<Thread> armingThread = new AtomicReference<>();
        // On the arming thread (never throw there): let the worker get to its next work. Other tests'
        // threads may still be followed; their traces pass.
        Arming.beforeStackTrace = traced -> {
            if (traced != worker) {
                return;
            }
            long deadline = System.nanoTime() + LIVENESS.toNanos();
            while (NextWork.SPINS.get() <= before + 100_000 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            armingThread.compareAndSet(null, Thread.currentThread());
        };
        try {
            worker.start();
            entered.await();
            scope.cancel();
            // Past the hook, the arming thread takes the trace, decides, and waits for its next look.
            PollTest.waitFor(() -> armingThread.get() != null
                    && armingThread.get().getState() == Thread.State.TIMED_WAITING, LIVENESS);
            assertThat(ended.get()).isInstanceOf(CancelledSignal.class);
            assertThat(Poll.isGroupArmed(nextGroup)).as("the group of the work after the cancelled scope").isFalse();
        } finally {
            Arming.beforeStackTrace = null;
            NextWork.done = true;
            worker.join(LIVENESS.toMillis());
        }
        assertThat(worker.isAlive()).isFalse();
    }

    @Test
    void theArmingThreadInterruptsAgainOnlyAfterTheCancellationsOwnInterrupt() throws Exception {
        // The canceller between counting a thread as cancelled (which wakes the arming thread) and
        // interrupting it: an interrupt of the arming thread landing first would be taken by the
        // scope for someone else's and kept after the scope. So no interrupt until the canceller says
        // it has interrupted; from then on the arming thread's looks wake the sleeper again.
        AtomicReference<ThreadState> sleeperState = new AtomicReference<>();
        CountDownLatch woke = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        Thread sleeper = new Thread(() -> {
            sleeperState.set(ThreadState.current());
            try {
                never.await(); // blocked until interrupted
            } catch (InterruptedException e) {
                woke.countDown();
            }
        }, "arming-test-sleeper");
        sleeper.start();
        PollTest.waitFor(() -> sleeper.getState() == Thread.State.WAITING, LIVENESS);
        ThreadState state = sleeperState.get();
        int cancellation = Poll.scopeCancelled(state, true);
        assertThat(cancellation).isPositive();
        try {
            Poll.ensureArming();
            // Its follow and first looks (2, 4, 8, 16, 32 ms) come and go without an interrupt.
            assertThat(woke.await(150, TimeUnit.MILLISECONDS)).as("interrupted before the cancellation's own interrupt")
                    .isFalse();
            Poll.cancellationInterrupted(state, cancellation); // as the canceller says after interrupting (here it did not)
            assertThat(woke.await(LIVENESS.toMillis(), TimeUnit.MILLISECONDS))
                    .as("woken by the arming thread's next look").isTrue();
        } finally {
            Poll.scopeCleared(state, true);
            sleeper.interrupt();
            sleeper.join(LIVENESS.toMillis());
        }
        assertThat(sleeper.isAlive()).isFalse();
    }

    @Test
    void aLoopInAGroupNotOnTheStackIsStoppedByTheGlobalFallback() throws Exception {
        // The loop polls a group that no frame of its thread belongs to (as when the stack trace was
        // taken just before the thread entered code of another group): only the fallback, every site armed, stops it.
        int stray = groupOtherThan(PollGroup.of(VictimLoop.class.getName()), ArmingTest.class.getName(),
                Thread.class.getName(), "dev.usethread.internal.ArmingTest$1");
        AtomicReference<Throwable> ended = runCancelled(groupPoll("p", stray), "fallback");
        assertThat(ended.get()).isInstanceOf(CancelledSignal.class);
        assertThat(Poll.isGloballyArmed()).as("stopped by the fallback: every site armed (until a quiet period)").isTrue();
    }

    interface Loop {
        void spin(MethodHandle poll) throws Throwable;
    }

    private static AtomicReference<Throwable> runCancelled(MethodHandle poll, String name) throws Exception {
        ExecutorService thread = Executors.newSingleThreadExecutor(r -> new Thread(r, "arming-test-" + name));
        try {
            return runCancelled(VictimLoop.SPINS, VictimLoop::spin, poll, () -> true, thread);
        } finally {
            thread.shutdown();
            assertThat(thread.awaitTermination(LIVENESS.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        }
    }

    /**
     * Runs {@code loop} in a cancel scope on {@code thread} until it has spun, then cancels it if
     * {@code beforeCancel} holds (else cancels it anyway but returns null); returns what ended it.
     */
    private static AtomicReference<Throwable> runCancelled(AtomicLong spins, Loop loop, MethodHandle poll,
            BooleanSupplier beforeCancel, ExecutorService thread) throws Exception {
        AtomicReference<Throwable> ended = new AtomicReference<>();
        CancelScope scope = new CancelScope("arming test", true);
        CountDownLatch entered = new CountDownLatch(1);
        Future<?> run = thread.submit(() -> {
            scope.enter();
            entered.countDown();
            try {
                loop.spin(poll);
            } catch (Throwable signal) {
                ended.set(signal);
            } finally {
                scope.exit();
            }
        });
        entered.await();
        long spinsBefore = spins.get();
        // The loop has run (hot or not: the test holds whenever the cancel comes).
        PollTest.waitFor(() -> spins.get() > spinsBefore + 100_000, LIVENESS);
        boolean asked = beforeCancel.getAsBoolean();
        scope.cancel();
        try {
            run.get(LIVENESS.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("loop still running", e);
        }
        return asked ? ended : null;
    }

    private static MethodHandle groupPoll(String kind, int group) throws ReflectiveOperationException {
        return MethodHandles.publicLookup().findStatic(GroupPolls.class, kind + group, MethodType.methodType(void.class));
    }

    /** A group that none of {@code names} (nor any JDK class in between) hashes to. */
    private static int groupOtherThan(int group, String... names) {
        for (int g = 0; g < PollGroup.COUNT; g++) {
            boolean taken = g == group;
            for (String n : names) {
                taken |= PollGroup.of(n) == g;
            }
            if (!taken) {
                return g;
            }
        }
        throw new AssertionError("no free group");
    }
}
