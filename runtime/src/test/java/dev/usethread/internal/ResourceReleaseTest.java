package dev.usethread.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usethread.CancelledSignal;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;

/**
 * A poll does not cut short a resource's acquisition, construction or release ({@link ProtectedCode}):
 * a method that returns an AutoCloseable, a constructor of an AutoCloseable class, or a method named
 * close, unlock or release runs to its end and the first poll after it throws (within a millisecond,
 * by design). Other code is stopped at its first poll, and a release that never ends is stopped once
 * the resource budget (usethread.resourceMillis, 100 ms) is spent. Each test first
 * waits until a cancelled poll throws: the arming thread arms the poll site soon after a cancel, not
 * at once, and it stays armed for the quiet period (1 s here), so the polls under test are live.
 */
class ResourceReleaseTest {
    /** Polls in its constructor and its close, as woven code does. */
    static final class Resource implements AutoCloseable {
        final int constructorPolls;
        int closePolls;

        Resource(int polls) {
            constructorPolls = pollTimes(polls);
        }

        @Override
        public void close() {
            closePolls = pollTimes(100);
        }
    }

    /** Not AutoCloseable: its constructor is ordinary code. Counts the polls it got past. */
    static final class Plain {
        static int pollsPassed;

        Plain(int polls) {
            for (int i = 0; i < polls; i++) {
                Poll.poll();
                pollsPassed++;
            }
        }
    }

    /** A hand-written pool: borrowing returns the resource. */
    static final class Pool {
        int polls;

        Resource borrow() {
            polls = pollTimes(100);
            return new Resource(0);
        }
    }

    /** A hand-written lock or pool: unlock and release are releases too. */
    static final class Releasable {
        int unlock() {
            return pollTimes(100);
        }

        int release() {
            return pollTimes(100);
        }
    }

    static int pollTimes(int n) {
        for (int i = 0; i < n; i++) {
            Poll.poll();
        }
        return n;
    }

    @Test
    void aCloseRunsToItsEndAndThePollAfterItThrows() {
        Resource resource = new Resource(0);
        runCancelled(() -> {
            resource.close();
            return resource.closePolls;
        });
    }

    @Test
    void aConstructorOfAnAutoCloseableRunsToItsEnd() {
        runCancelled(() -> new Resource(100).constructorPolls);
    }

    @Test
    void aMethodThatReturnsAnAutoCloseableRunsToItsEnd() {
        Pool pool = new Pool();
        runCancelled(() -> {
            pool.borrow();
            return pool.polls;
        });
    }

    @Test
    void unlockAndReleaseRunToTheirEnd() {
        Releasable lock = new Releasable();
        runCancelled(lock::unlock);
        runCancelled(lock::release);
    }

    @Test
    void otherCodeIsStoppedAtItsFirstPoll() {
        Plain.pollsPassed = 0;
        Throwable thrown = inCancelledScope(() -> new Plain(100));
        assertThat(thrown).as("a plain constructor's poll throws").isInstanceOf(CancelledSignal.class);
        assertThat(Plain.pollsPassed).as("polls passed inside the constructor").isLessThan(100);
    }

    /** A close that polls for ever is stopped once the resource budget is spent. */
    @Test
    void aCloseThatNeverEndsIsStoppedAfterTheResourceBudget() {
        int[] polls = {0};
        Throwable thrown = inCancelledScope(() -> {
            long giveUp = System.nanoTime() + 30_000_000_000L; // a liveness bound for the test only
            new AutoCloseable() {
                @Override
                public void close() {
                    while (System.nanoTime() < giveUp) {
                        Poll.poll();
                        polls[0]++;
                    }
                }
            }.close();
        });
        assertThat(thrown).as("stopped inside the endless close").isInstanceOf(CancelledSignal.class);
        assertThat(polls[0]).as("polls the close ran before the budget was spent").isGreaterThan(100);
    }

    private static void runCancelled(IntSupplier release) {
        int[] ran = {0};
        Throwable thrown = inCancelledScope(() -> {
            ran[0] = release.getAsInt();
            assertThat(StaticInitializerTest.pollUntilSignal()).as("a poll after the release throws")
                    .isInstanceOf(CancelledSignal.class);
        });
        assertThat(thrown).as("nothing escaped the release").isNull();
        assertThat(ran[0]).as("the release ran to its end").isEqualTo(100);
    }

    /**
     * Runs {@code body} in a cancelled intrusive scope, once a poll of an earlier cancelled scope has
     * thrown (the poll site is then armed, and stays so for a while); returns the signal it threw, or null.
     */
    private static Throwable inCancelledScope(Runnable body) {
        Throwable arming = cancelled(() -> StaticInitializerTest.pollUntilSignal());
        assertThat(arming).as("a cancelled poll throws").isInstanceOf(CancelledSignal.class);
        return cancelled(() -> {
            body.run();
            return null;
        });
    }

    private static Throwable cancelled(java.util.function.Supplier<Throwable> body) {
        CancelScope scope = new CancelScope("release test", true);
        scope.enter();
        try {
            scope.cancel();
            Thread.interrupted(); // the cancel interrupted this thread; not what is tested here
            return body.get();
        } catch (CancelledSignal signal) {
            return signal;
        } finally {
            scope.exit();
        }
    }
}
