package dev.usethread;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** Cancellation.withTimeout: deadlines on the calling thread (cooperative here: no agent). */
class WithTimeoutTest {

    static long spin() {
        long i = 0;
        while (true) {
            Cancellation.checkpoint();
            i++;
        }
    }

    @Test
    void returnsTheBodysValueWhenItEndsInTime() throws Exception {
        assertThat(Cancellation.withTimeout(Duration.ofSeconds(30), () -> 42)).isEqualTo(42);
    }

    @Test
    void stopsALoopAndSaysTheDeadlineAndWhere() {
        assertThatThrownBy(() -> Cancellation.withTimeout(Duration.ofMillis(50), WithTimeoutTest::spin))
                .isInstanceOf(TimeoutException.class)
                .hasMessageContaining("deadline of PT0.05S passed")
                .hasMessageContaining("WithTimeoutTest.spin")
                .hasCauseInstanceOf(CancelledSignal.class);
        assertThat(Thread.currentThread().isInterrupted()).as("our interrupt is cleared").isFalse();
        assertThat(Cancellation.isCancelled()).isFalse();
        Cancellation.checkpoint(); // the thread carries on normally
    }

    @Test
    void wakesASleepingBodyThroughItsInterrupt() {
        assertThatThrownBy(() -> Cancellation.withTimeout(Duration.ofMillis(50), () -> {
            Thread.sleep(TimeUnit.HOURS.toMillis(1));
            return "slept";
        })).isInstanceOf(TimeoutException.class).hasCauseInstanceOf(InterruptedException.class);
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    @Test
    void anInnerDeadlineCannotExtendTheOuterOne() {
        long start = System.nanoTime();
        assertThatThrownBy(() -> Cancellation.withTimeout(Duration.ofMillis(100),
                () -> Cancellation.withTimeout(Duration.ofHours(1), WithTimeoutTest::spin)))
                .isInstanceOf(TimeoutException.class).hasMessageContaining("deadline of PT0.1S");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMinutes(1));
    }

    @Test
    void anInnerDeadlineFiresInsideALongerOuterOne() throws Exception {
        String outcome = Cancellation.withTimeout(Duration.ofHours(1), () -> {
            try {
                return Cancellation.withTimeout(Duration.ofMillis(50), () -> "never " + spin());
            } catch (TimeoutException e) {
                return "inner timed out: " + e.getMessage();
            }
        });
        assertThat(outcome).startsWith("inner timed out: deadline of PT0.05S");
    }

    @Test
    void checkedExceptionsOfTheBodyPassThrough() {
        assertThatThrownBy(() -> Cancellation.withTimeout(Duration.ofSeconds(30), () -> {
            throw new java.io.IOException("disk");
        })).isInstanceOf(java.io.IOException.class).hasMessage("disk");
    }

    @Test
    void badInputIsRejectedNamingTheValue() {
        assertThatThrownBy(() -> Cancellation.withTimeout(Duration.ZERO, () -> 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("timeout must be positive: PT0S");
        assertThatThrownBy(() -> Cancellation.withTimeout(Duration.ofSeconds(-3), () -> 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("timeout must be positive: PT-3S");
        assertThatThrownBy(() -> Cancellation.withTimeout(null, () -> 1)).hasMessage("timeout");
        assertThatThrownBy(() -> Cancellation.withTimeout(Duration.ofSeconds(1), null)).hasMessage("body");
    }

    @Test
    void aDeadlineInsideAJobUnwindsToTheJobWhenTheJobIsCancelled() throws Exception {
        java.util.concurrent.CountDownLatch inside = new java.util.concurrent.CountDownLatch(1);
        UseThread<String> job = UseThread.useThread(() -> Cancellation.withTimeout(Duration.ofHours(1), () -> {
            inside.countDown();
            return "never " + spin();
        }));
        inside.await();
        job.cancel();
        assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(ResultState.CANCELLED);
        job.close();
    }
}
