package dev.usethread.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usethread.CancelledSignal;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;

/**
 * The unwinding rule: cleanup on the way out of a cancellation runs to completion, swallowers are
 * still stopped. The code here is woven by hand exactly as the agent weaves it: its poll group's
 * {@code GroupPolls.p208()} at method entries and back-edges, {@code Poll.caught(t)} at handler
 * starts, {@code Poll.thrown(t)} before {@code athrow}, {@code GroupPolls.h208()} at back-edges of
 * loops inside handlers. The it-tests run the same shapes through the real agent.
 */
class UnwindingTest {
    /** This class's poll group, as the agent computes it: the polls above must be its own. */
    private static final int GROUP = 208;

    @Test
    void thePollsAboveAreThoseOfThisClasssGroup() {
        assertThat(PollGroup.of(UnwindingTest.class.getName())).isEqualTo(GROUP);
    }

    private static final Duration LIVENESS = Duration.ofSeconds(20);

    /** A woven method that does some work: polls at entry and at its loop's back-edge. */
    static int cleanupWork(int iterations) {
        GroupPolls.p208();
        int sum = 0;
        for (int i = 0; i < iterations; i++) {
            sum += i;
            GroupPolls.p208();
        }
        return sum;
    }

    static void spin(AtomicInteger progress) {
        GroupPolls.p208();
        while (true) {
            progress.incrementAndGet();
            GroupPolls.p208();
        }
    }

    @Test
    void aFinallyBlockAndTheMethodsItCallsRunToCompletion() throws Exception {
        AtomicInteger cleanedUp = new AtomicInteger();
        AtomicInteger progress = new AtomicInteger();
        Throwable ended = runCancelled(progress, () -> {
            try {
                spin(progress);
            } catch (Throwable t) { // javac's catch-any handler of a finally
                Poll.caught(t);
                cleanedUp.addAndGet(cleanupWork(1000) == 499500 ? 1 : 0);
                int released = 0;
                for (int i = 0; i < 3; i++) { // a loop written in the finally block itself
                    released++;
                    GroupPolls.h208();
                }
                cleanedUp.addAndGet(released);
                Poll.thrown(t);
                throw t;
            }
        });
        assertThat(ended).isInstanceOf(CancelledSignal.class);
        assertThat(cleanedUp.get()).as("cleanup call and the loop in the finally block both finished").isEqualTo(4);
    }

    @Test
    void nestedFinallyBlocksEachRunWhole() throws Exception {
        AtomicInteger inner = new AtomicInteger();
        AtomicInteger outer = new AtomicInteger();
        AtomicInteger progress = new AtomicInteger();
        Throwable ended = runCancelled(progress, () -> {
            try {
                try {
                    spin(progress);
                } catch (Throwable t) {
                    Poll.caught(t);
                    inner.set(cleanupWork(10));
                    Poll.thrown(t);
                    throw t;
                }
            } catch (Throwable t) {
                Poll.caught(t);
                outer.set(cleanupWork(20));
                Poll.thrown(t);
                throw t;
            }
        });
        assertThat(ended).isInstanceOf(CancelledSignal.class);
        assertThat(inner.get()).isEqualTo(45);
        assertThat(outer.get()).isEqualTo(190);
    }

    @Test
    void aLockReleasedThroughAPollingHelperInFinallyIsReleased() throws Exception {
        ReentrantLock lock = new ReentrantLock();
        AtomicInteger progress = new AtomicInteger();
        runCancelled(progress, () -> {
            lock.lock();
            try {
                spin(progress);
            } catch (Throwable t) {
                Poll.caught(t);
                Helpers.unlock(lock);
                Poll.thrown(t);
                throw t;
            }
        });
        Thread other = new Thread(() -> {
            if (lock.tryLock()) {
                lock.unlock();
            } else {
                throw new AssertionError("lock still held");
            }
        });
        AtomicReference<Throwable> failure = new AtomicReference<>();
        other.setUncaughtExceptionHandler((th, e) -> failure.set(e));
        other.start();
        other.join(LIVENESS.toMillis());
        assertThat(failure.get()).isNull();
        assertThat(lock.isLocked()).isFalse();
    }

    static final class Helpers {
        static void unlock(ReentrantLock lock) {
            GroupPolls.p208(); // the entry poll that used to throw again and leave the lock held
            lock.unlock();
        }

        static void log(AtomicInteger logged) {
            GroupPolls.p208();
            for (int i = 0; i < 100; i++) {
                GroupPolls.p208();
            }
            logged.incrementAndGet();
        }
    }

    @Test
    void aSwallowingRetryLoopIsStillStoppedAndItsLoggingRunsWhole() throws Exception {
        AtomicInteger swallowed = new AtomicInteger();
        AtomicInteger logged = new AtomicInteger();
        AtomicInteger progress = new AtomicInteger();
        Throwable ended = runCancelled(progress, () -> {
            while (true) {
                try {
                    spin(progress);
                } catch (Throwable t) { // a careless library: log and retry
                    Poll.caught(t);
                    swallowed.incrementAndGet();
                    Helpers.log(logged);
                }
                GroupPolls.p208(); // the retry loop's back-edge, in normal code
            }
        });
        assertThat(ended).isInstanceOf(CancelledSignal.class);
        assertThat(swallowed.get()).isEqualTo(1);
        assertThat(logged.get()).as("the log call in the handler finished").isEqualTo(1);
    }

    @Test
    void aHandlerThatSwallowsAndReturnsIsStoppedInItsCaller() throws Exception {
        AtomicInteger swallowed = new AtomicInteger();
        AtomicInteger progress = new AtomicInteger();
        Throwable ended = runCancelled(progress, () -> {
            while (true) {
                swallowOnce(progress, swallowed);
                GroupPolls.p208();
            }
        });
        assertThat(ended).isInstanceOf(CancelledSignal.class);
        assertThat(swallowed.get()).isEqualTo(1);
    }

    static void swallowOnce(AtomicInteger progress, AtomicInteger swallowed) {
        GroupPolls.p208();
        try {
            spin(progress);
        } catch (Throwable t) {
            Poll.caught(t);
            swallowed.incrementAndGet();
        }
    }

    @Test
    void endlessWorkInsideAHandlerIsStoppedAfterTheCleanupBudget() throws Exception {
        AtomicInteger progress = new AtomicInteger();
        AtomicInteger fallbackStarted = new AtomicInteger();
        Throwable ended = runCancelled(progress, () -> {
            try {
                spin(progress);
            } catch (Throwable t) { // a "fallback" that never ends
                Poll.caught(t);
                fallbackStarted.incrementAndGet();
                spin(new AtomicInteger());
            }
        });
        assertThat(ended).isInstanceOf(CancelledSignal.class);
        assertThat(fallbackStarted.get()).isEqualTo(1);
    }

    @Test
    void aSignalWrappedByALibraryStillCountsAsUnwinding() throws Exception {
        AtomicInteger cleaned = new AtomicInteger();
        AtomicInteger progress = new AtomicInteger();
        Throwable ended = runCancelled(progress, () -> {
            try {
                try {
                    spin(progress);
                } catch (Throwable t) {
                    Poll.caught(t);
                    RuntimeException wrapped = new RuntimeException("library failure", t);
                    Poll.thrown(wrapped);
                    throw wrapped;
                }
            } catch (Throwable t) {
                Poll.caught(t);
                cleaned.set(cleanupWork(100));
                Poll.thrown(t);
                throw t;
            }
        });
        assertThat(ended).isInstanceOf(RuntimeException.class).hasCauseInstanceOf(CancelledSignal.class);
        assertThat(cleaned.get()).isEqualTo(4950);
    }

    @Test
    void afterTheScopeEndsTheThreadIsClean() throws Exception {
        AtomicInteger progress = new AtomicInteger();
        AtomicReference<Throwable> afterwards = new AtomicReference<>();
        Thread t = new Thread(() -> {
            CancelScope scope = new CancelScope("first", true);
            scope.enter();
            try {
                scope.cancel();
                spin(progress);
            } catch (Throwable signal) {
                Poll.caught(signal);
            } finally {
                scope.exit();
            }
            try {
                cleanupWork(10_000); // polls freely outside any scope
                afterwards.set(null);
            } catch (Throwable e) {
                afterwards.set(e);
            }
        });
        t.start();
        t.join(LIVENESS.toMillis());
        assertThat(t.isAlive()).isFalse();
        assertThat(afterwards.get()).isNull();
    }

    /** A body woven by hand: checked exceptions pass through as Throwable. */
    interface Body {
        void run() throws Throwable;
    }

    /** Runs {@code body} in an intrusive scope on a new thread, cancels it once it is busy, returns how it ended. */
    private static Throwable runCancelled(AtomicInteger progress, Body body) throws Exception {
        CancelScope scope = new CancelScope("unwinding test", true);
        AtomicReference<Throwable> ended = new AtomicReference<>();
        CountDownLatch entered = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            scope.enter();
            entered.countDown();
            try {
                body.run();
            } catch (Throwable e) {
                ended.set(e);
            } finally {
                scope.exit();
            }
        });
        t.start();
        entered.await();
        long deadline = System.nanoTime() + LIVENESS.toNanos();
        while (progress.get() < 1000 && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(1);
        }
        scope.cancel();
        t.join(LIVENESS.toMillis());
        assertThat(t.isAlive()).as("thread still running after cancel").isFalse();
        return ended.get();
    }
}
