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
    void theTimeoutIsTypedAndCarriesTheDeadlineAndTheFrame() {
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(
                () -> Cancellation.withTimeout(Duration.ofMillis(50), WithTimeoutTest::spin));
        assertThat(t).isInstanceOf(DeadlineExceededException.class).isInstanceOf(TimeoutException.class);
        DeadlineExceededException e = (DeadlineExceededException) t;
        assertThat(e.deadline()).isEqualTo(Duration.ofMillis(50));
        assertThat(e.stoppedAt().getClassName()).isEqualTo(WithTimeoutTest.class.getName());
        assertThat(e.stoppedAt().getMethodName()).isEqualTo("spin");
        assertThat(e.getMessage()).isEqualTo("deadline of PT0.05S passed; the body was stopped at " + e.stoppedAt());
    }

    private static volatile String reported;

    /** Spins without a checkpoint (nothing stops it without the agent) until something is reported. */
    private static String spinUntilReported() {
        long i = 0;
        while (reported == null) {
            i++;
        }
        return "ended by itself after " + i;
    }

    @Test
    void aBodyThatOutlivesItsDeadlineIsReportedOnceToTheThreadsReporter() throws Exception {
        reported = null;
        java.util.List<String> reports = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.function.Consumer<String> previous = dev.usethread.internal.StuckThreads.reportDeadlinesTo(text -> {
            reports.add(text);
            reported = text;
        });
        try {
            String value = Cancellation.withTimeout(Duration.ofMillis(50), WithTimeoutTest::spinUntilReported);
            assertThat(value).startsWith("ended by itself");
        } finally {
            dev.usethread.internal.StuckThreads.reportDeadlinesTo(previous);
        }
        assertThat(reports).hasSize(1);
        assertThat(reports.get(0)).startsWith("deadline of PT0.05S passed more than PT1S ago and the body has not"
                + " stopped: thread " + Thread.currentThread().getName() + " is running "
                + WithTimeoutTest.class.getName() + ".spinUntilReported(")
                .contains("the usethread agent is not installed");
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    @Test
    void withoutAReporterTheStuckBodyIsLoggedThroughSystemLogger() throws Exception {
        reported = null;
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger("dev.usethread");
        java.util.List<java.util.logging.LogRecord> records = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler handler = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if (r.getMessage().startsWith("deadline of")) {
                    records.add(r);
                    reported = r.getMessage();
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        boolean parents = logger.getUseParentHandlers();
        logger.addHandler(handler);
        logger.setUseParentHandlers(false); // keep the test's console quiet
        try {
            Cancellation.withTimeout(Duration.ofMillis(50), WithTimeoutTest::spinUntilReported);
        } finally {
            logger.removeHandler(handler);
            logger.setUseParentHandlers(parents);
        }
        assertThat(records).hasSize(1);
        assertThat(records.get(0).getLevel()).isEqualTo(java.util.logging.Level.WARNING);
        assertThat(records.get(0).getMessage()).contains("spinUntilReported", "has not stopped");
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
    void neverLeavesAnInterruptBehindWhenDeadlinesComeOneAfterTheOther() {
        // Each deadline interrupts a blocked body while the arming thread follows it; an interrupt of
        // the arming thread's landing before the deadline's was once taken by the scope for someone
        // else's and kept after withTimeout.
        for (int i = 0; i < 300; i++) {
            int round = i;
            assertThatThrownBy(() -> Cancellation.withTimeout(Duration.ofMillis(1), () -> {
                new java.util.concurrent.CountDownLatch(1).await(); // blocked until the deadline's interrupt
                return "woke";
            })).isInstanceOf(TimeoutException.class);
            assertThat(Thread.interrupted()).as("interrupt status after deadline %d", round).isFalse();
        }
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
