package dev.usethread;

import static dev.usethread.ResultState.CANCELLED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.usethread.internal.Poll;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runtime keeps its own promises under cancellation: shields really shield, listeners never run
 * under the signal, deadlines keep interrupts they did not cause, the cancellation's interrupt
 * neither closes a channel a running thread shares nor disturbs its cleanup. Code that stands for woven code
 * calls {@code Poll.poll()} where the agent would put it.
 */
class SafeStopsTest {
    private static final int FILE_BYTES = 256 * 1024;

    @TempDir
    Path dir;

    /** "compute; shielded(write file)" cancelled at random times never loses or truncates the file. */
    @Test
    void shieldedFileWritesSurviveCancellationAtRandomTimes() throws Exception {
        Random rnd = new Random(Long.getLong("usethread.stress.seed", 42));
        for (int i = 0; i < 100; i++) {
            Path file = dir.resolve("out-" + i);
            AtomicInteger written = new AtomicInteger();
            UseThread<Void> job = UseThread.useThread(() -> {
                while (true) {
                    for (int k = 0; k < 2_000; k++) {
                        Poll.poll(); // the computation's back-edge
                        Cancellation.checkpoint();
                    }
                    Cancellation.shielded(() -> {
                        writeWhole(file);
                        written.incrementAndGet();
                    });
                }
            });
            waitUntil(() -> written.get() > 0 || job.result().state().isTerminal());
            LockSupportSpin.spin(rnd.nextInt(300_000));
            job.cancel();
            assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(CANCELLED);
            assertThat(job.result().error()).as("no write failed").isNull();
            assertThat(Files.size(file)).as("file %s after cancel %d", file, i).isEqualTo(FILE_BYTES);
            job.close();
        }
    }

    /** The README's pattern: cleanup in a finally block, shielded, that sleeps and writes. */
    @Test
    void aShieldedCleanupThatSleepsAndWritesRunsWhole() throws Exception {
        for (int i = 0; i < 50; i++) {
            Path file = dir.resolve("cleanup-" + i);
            cancelPollingJobWithCleanup(() -> Cancellation.shielded(() -> {
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    throw new AssertionError("interrupted inside a shield", e);
                }
                writeWhole(file);
            }));
            assertThat(Files.size(file)).isEqualTo(FILE_BYTES);
        }
    }

    /**
     * The cancellation's interrupt would close an interruptible channel its thread is writing to, for
     * everyone who shares it. A running thread is stopped by its polls instead: a FileChannel that
     * cancelled jobs write to at random moments stays open.
     */
    @Test
    void aSharedFileChannelStaysOpenWhileItsWritersAreCancelled() throws Exception {
        Random rnd = new Random(Long.getLong("usethread.stress.seed", 42));
        try (FileChannel shared = FileChannel.open(dir.resolve("shared.log"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            for (int i = 0; i < 100; i++) {
                AtomicInteger records = new AtomicInteger();
                UseThread<Void> job = UseThread.useThread(() -> {
                    while (true) {
                        Poll.poll(); // the entry poll of a woven "log a record" method
                        shared.write(ByteBuffer.wrap("a record\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
                        records.incrementAndGet();
                    }
                });
                waitUntil(() -> records.get() > 0 || job.result().state().isTerminal());
                LockSupportSpin.spin(rnd.nextInt(100_000));
                job.cancel();
                assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(CANCELLED);
                assertThat(shared.isOpen()).as("the shared channel after cancel %d", i).isTrue();
                job.close();
            }
        }
    }

    /** Cleanup on the way out runs without the cancellation's interrupt: a FileChannel write there works. */
    @Test
    void cleanupRunsWithoutTheCancellationsInterrupt() throws Exception {
        for (int i = 0; i < 20; i++) {
            Path file = dir.resolve("status-" + i);
            AtomicReference<Boolean> interruptedInCleanup = new AtomicReference<>();
            cancelPollingJobWithCleanup(() -> {
                interruptedInCleanup.set(Thread.currentThread().isInterrupted());
                writeWhole(file); // not shielded
            });
            assertThat(interruptedInCleanup.get()).as("interrupted in cleanup").isFalse();
            assertThat(Files.size(file)).isEqualTo(FILE_BYTES);
        }
    }

    /**
     * Code without polls that stops when interrupted (unwoven code that checks the interrupt status)
     * still gets the interrupt: the arming thread sends it when the thread has not stopped 200 ms
     * after the cancel.
     */
    @Test
    void codeWithoutPollsThatHonoursInterruptsStillStops() throws Exception {
        for (int i = 0; i < 10; i++) {
            CountDownLatch busy = new CountDownLatch(1);
            UseThread<Void> job = UseThread.useThread(() -> {
                busy.countDown();
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.onSpinWait();
                }
                throw new InterruptedException("interrupted in unwoven code");
            });
            busy.await();
            job.cancel();
            assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(CANCELLED);
            job.close();
        }
    }

    /** A cleanup that blocks for ever is interrupted once the cleanup budget (1 s) is spent: the run ends. */
    @Test
    void aCleanupThatBlocksIsInterruptedOnceTheCleanupBudgetIsSpent() throws Exception {
        AtomicReference<Throwable> cleanupEnded = new AtomicReference<>();
        cancelPollingJobWithCleanup(() -> {
            try {
                new CountDownLatch(1).await(); // never counted down
            } catch (InterruptedException e) {
                cleanupEnded.set(e);
            }
        });
        assertThat(cleanupEnded.get()).as("the blocked cleanup was interrupted").isInstanceOf(InterruptedException.class);
    }

    /** Cancels a job that polls for ever and has {@code cleanup} in a finally block; it must end CANCELLED. */
    private static void cancelPollingJobWithCleanup(Runnable cleanup) throws Exception {
        CountDownLatch busy = new CountDownLatch(1);
        UseThread<Void> job = UseThread.useThread(() -> {
            try {
                busy.countDown();
                while (true) {
                    Poll.poll();
                    Cancellation.checkpoint();
                }
            } finally {
                cleanup.run();
            }
        });
        busy.await();
        job.cancel();
        assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(CANCELLED);
        job.close();
    }

    @Test
    void aShieldCannotBeClosedByAnotherThreadTwiceOrOutOfOrder() throws Exception {
        dev.usethread.internal.CancelScope.Shield outer = dev.usethread.internal.CancelScope.shield();
        dev.usethread.internal.CancelScope.Shield inner = dev.usethread.internal.CancelScope.shield();
        assertThatThrownBy(outer::close).isInstanceOf(IllegalStateException.class);
        AtomicReference<Throwable> fromOther = new AtomicReference<>();
        Thread other = new Thread(() -> {
            try {
                inner.close();
            } catch (Throwable t) {
                fromOther.set(t);
            }
        });
        other.start();
        other.join();
        assertThat(fromOther.get()).isInstanceOf(IllegalStateException.class);
        inner.close();
        assertThatThrownBy(inner::close).isInstanceOf(IllegalStateException.class);
        outer.close();
    }

    @Test
    void withTimeoutKeepsTheCallersOwnPendingInterrupt() throws Exception {
        for (int i = 0; i < 20; i++) {
            Thread.currentThread().interrupt();
            assertThatThrownBy(() -> Cancellation.withTimeout(Duration.ofMillis(5), () -> {
                while (true) {
                    Poll.poll();
                    Cancellation.checkpoint();
                }
            })).isInstanceOf(TimeoutException.class);
            assertThat(Thread.interrupted()).as("caller's interrupt kept, round %d", i).isTrue();
        }
    }

    @Test
    void withTimeoutKeepsAnInterruptThatArrivedDuringTheBody() throws Exception {
        for (int i = 0; i < 20; i++) {
            Thread self = Thread.currentThread();
            // 200 ms: the body's interrupt must come before the deadline's (one arriving after the
            // deadline's own cannot be told apart from it, as documented).
            assertThatThrownBy(() -> Cancellation.withTimeout(Duration.ofMillis(200), () -> {
                self.interrupt(); // as an executor's shutdownNow() would, while the body runs
                while (true) {
                    Poll.poll();
                    Cancellation.checkpoint();
                }
            })).isInstanceOf(TimeoutException.class);
            assertThat(Thread.interrupted()).as("foreign interrupt kept, round %d", i).isTrue();
        }
        assertThatThrownBy(() -> Cancellation.withTimeout(Duration.ofMillis(5), () -> {
            while (true) {
                Cancellation.checkpoint();
            }
        })).isInstanceOf(TimeoutException.class);
        assertThat(Thread.interrupted()).as("the deadline's own interrupt is cleared").isFalse();
    }

    /**
     * Listeners on the default executor run on the cancelled run's own thread. A listener that polls
     * (woven code) still gets every snapshot in order, and the run reaches its final state.
     */
    @Test
    void pollingListenersOnTheRunsThreadMissNothing() throws Exception {
        for (int i = 0; i < 50; i++) {
            List<ResultState> seen = new CopyOnWriteArrayList<>();
            AtomicInteger signalsInListener = new AtomicInteger();
            AtomicBoolean emitting = new AtomicBoolean();
            CountDownLatch subscribed = new CountDownLatch(1);
            UseThread<Integer> job = UseThread.useThread((CancelEvent cancel, Emitter<Integer> emit) -> {
                // Emit only once subscribed, so the run's own thread delivers (the default executor).
                subscribed.await();
                for (int k = 0; ; k++) {
                    emitting.set(true);
                    emit.emit(k);
                    Poll.poll();
                }
            });
            job.subscribe(r -> {
                try {
                    for (int k = 0; k < 100_000; k++) {
                        Poll.poll(); // woven listener code, long enough for the cancel to land inside
                    }
                } catch (CancelledSignal s) {
                    signalsInListener.incrementAndGet();
                    throw s;
                }
                seen.add(r.state());
            });
            subscribed.countDown();
            waitUntil(emitting::get);
            job.cancel();
            assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(CANCELLED);
            waitUntil(() -> !seen.isEmpty() && seen.get(seen.size() - 1) == CANCELLED);
            assertThat(signalsInListener.get()).isZero();
            job.close();
        }
    }

    private static void writeWhole(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer data = ByteBuffer.allocate(FILE_BYTES);
            while (data.hasRemaining()) {
                ch.write(data);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Recorder.LIVENESS.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + Recorder.LIVENESS);
            }
            TimeUnit.MILLISECONDS.sleep(1);
        }
    }

    /** Busy-waits a number of nanoseconds: a random cancel time without sleeping the test thread. */
    private static final class LockSupportSpin {
        static void spin(long nanos) {
            long until = System.nanoTime() + nanos;
            while (System.nanoTime() < until) {
                Thread.onSpinWait();
            }
        }
    }
}
