package dev.usethread.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.usethread.CancelledSignal;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** The poll woven code calls: arming on cancel, the per-thread mask, disarming after calm. */
class PollTest {
    private static final Duration LIVENESS = Duration.ofSeconds(20);

    @Test
    void aCancelledIntrusiveScopeStopsAHotLoopThatOnlyPolls() throws Exception {
        AtomicLong iterations = new AtomicLong();
        AtomicReference<Throwable> ended = new AtomicReference<>();
        CancelScope scope = new CancelScope("hot loop", true);
        Thread t = new Thread(() -> {
            scope.enter();
            try {
                long i = 0;
                while (true) {
                    i++;
                    if ((i & 0xFFFF) == 0) {
                        iterations.lazySet(i);
                    }
                    Poll.poll(); // what the agent weaves at this back-edge
                }
            } catch (Throwable signal) {
                ended.set(signal);
            } finally {
                scope.exit();
            }
        });
        t.start();
        waitFor(() -> iterations.get() > 50_000_000L); // hot enough to be compiled
        scope.cancel();
        t.join(LIVENESS.toMillis());
        assertThat(t.isAlive()).as("loop still running").isFalse();
        assertThat(ended.get()).isInstanceOf(CancelledSignal.class);
        assertThat(Poll.isArmed() || Poll.targetChanges() >= 2).as("the cancel armed the poll").isTrue();
    }

    @Test
    void aThreadSharingTheCancelledThreadsMaskBitIsNotStopped() throws Exception {
        CountDownLatch victimEntered = new CountDownLatch(1);
        CountDownLatch victimCancelled = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CancelScope victimScope = new CancelScope("victim", true);
        Thread victim = new Thread(() -> {
            CancelScope.Shield shield = CancelScope.shield(); // stays inside its cancelled scope without being stopped
            victimScope.enter();
            victimEntered.countDown();
            try {
                victimCancelled.await();
                release.await();
            } catch (InterruptedException ignored) {
                // deferred by the shield; not expected
            } finally {
                victimScope.exit();
                shield.close();
            }
        });
        Thread bystander = sameMaskBitAs(victim, () -> {
            CancelScope own = new CancelScope("bystander", true);
            own.enter();
            try {
                for (int i = 0; i < 5_000_000; i++) {
                    Poll.poll();
                }
            } finally {
                own.exit();
            }
        });
        victim.start();
        assertThat(victimEntered.await(LIVENESS.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        victimScope.cancel();
        victimCancelled.countDown();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        bystander.setUncaughtExceptionHandler((th, e) -> failure.set(e));
        bystander.start();
        bystander.join(LIVENESS.toMillis());
        release.countDown();
        victim.join(LIVENESS.toMillis());
        assertThat(bystander.isAlive()).isFalse();
        assertThat(failure.get()).as("bystander was stopped").isNull();
    }

    @Test
    void aNonIntrusiveScopeIsHonouredByCheckpointButNotByTheWovenPoll() throws Exception {
        AtomicReference<String> outcome = new AtomicReference<>();
        Thread t = new Thread(() -> {
            CancelScope scope = new CancelScope("cooperative", false);
            scope.enter();
            try {
                scope.cancel();
                Poll.poll();
                assertThatThrownBy(Poll::checkpoint).isInstanceOf(CancelledSignal.class);
                outcome.set("ok");
            } catch (Throwable e) {
                outcome.set(e.toString());
            } finally {
                scope.exit();
            }
        });
        t.start();
        t.join(LIVENESS.toMillis());
        assertThat(outcome.get()).isEqualTo("ok");
    }

    @Test
    void thePollSiteIsDisarmedAfterACalmPeriod() throws Exception {
        CancelScope scope = new CancelScope("arming", true);
        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        Thread t = new Thread(() -> {
            scope.enter();
            entered.countDown();
            try {
                while (true) {
                    Poll.poll();
                }
            } catch (CancelledSignal expected) {
                // stopped
            } finally {
                scope.exit();
            }
        });
        t.start();
        entered.await();
        scope.cancel();
        t.join(LIVENESS.toMillis());
        assertThat(t.isAlive()).isFalse();
        // The quiet period is 1 s here (pom), lengthened up to 10 s when other tests re-armed the site recently.
        waitFor(() -> !Poll.isArmed(), Duration.ofSeconds(90));
        assertThat(Poll.pendingCount()).isZero();
        // The arming thread ends a while (usethread.poll.lingerMillis, 3 s in these tests) after the
        // sites are idle: no thread stays for the JVM's life.
        waitFor(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(th -> th.getName().equals("usethread-poll")), Duration.ofSeconds(90));
    }

    @SuppressWarnings("deprecation") // Thread.getId(): threadId() needs Java 19
    private static Thread sameMaskBitAs(Thread victim, Runnable task) {
        for (int i = 0; i < 200; i++) {
            Thread candidate = new Thread(task);
            if ((candidate.getId() & 63) == (victim.getId() & 63)) {
                return candidate;
            }
        }
        throw new AssertionError("no thread id with the same low six bits in 200 tries");
    }

    private static void waitFor(BooleanSupplier condition) throws InterruptedException {
        waitFor(condition, LIVENESS);
    }

    static void waitFor(BooleanSupplier condition, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + limit);
            }
            TimeUnit.MILLISECONDS.sleep(5);
        }
    }
}
