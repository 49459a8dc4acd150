package dev.usethread;

import static dev.usethread.ResultState.CANCELLED;
import static dev.usethread.ResultState.ERROR;
import static dev.usethread.ResultState.FINISHED;
import static dev.usethread.ResultState.RUNNING;
import static dev.usethread.ResultState.STARTING;
import static dev.usethread.ResultState.WAITING;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import dev.usethread.internal.Poll;
import org.junit.jupiter.api.Test;

/**
 * Randomized operations from several threads against several jobs whose callbacks finish, throw,
 * emit, ignore cancellation, catch Throwable, clean up in finally blocks that call (hand-)woven code,
 * or write files in shielded regions. Each job also has a listener that polls as woven code does and
 * sometimes throws, logged through a {@code System.Logger} backend that polls too (a JUL handler, as
 * an SLF4J bridge would be). Checks the invariants: never two callbacks of one job at once; every
 * state sequence either subscriber sees is legal and complete; every cleanup that started finished;
 * no shielded file lost or truncated; the final snapshot is consistent; no job thread alive after
 * close(). Seeded: replay with -Dusethread.stress.seed=N.
 */
class StressTest {
    private static final int JOBS = 4;
    private static final int DRIVERS = 3;

    @Test
    void randomizedOperationsKeepEveryInvariant() throws Exception {
        long seed = Long.getLong("usethread.stress.seed", System.nanoTime());
        int ops = Integer.getInteger("usethread.stress.ops", 12_000);
        System.out.println("StressTest seed=" + seed + " ops=" + ops + " (replay: -Dusethread.stress.seed=" + seed + ")");
        java.util.logging.Logger log = java.util.logging.Logger.getLogger("dev.usethread");
        PollingLogHandler backend = new PollingLogHandler();
        boolean parents = log.getUseParentHandlers();
        log.addHandler(backend);
        log.setUseParentHandlers(false); // listener failures are expected here; keep the console quiet
        try {
            run(seed, ops);
            assertThat(backend.published.get()).as("log records through the polling backend").isPositive();
            assertThat(backend.signals.get()).as("signals inside the log backend").isZero();
        } catch (Throwable t) {
            throw new AssertionError("stress test failed with seed " + seed + ": " + t, t);
        } finally {
            log.removeHandler(backend);
            log.setUseParentHandlers(parents);
        }
    }

    /** A log backend whose code polls, as a woven one does. */
    private static final class PollingLogHandler extends java.util.logging.Handler {
        final AtomicInteger published = new AtomicInteger();
        final AtomicInteger signals = new AtomicInteger();

        @Override
        public void publish(java.util.logging.LogRecord record) {
            try {
                for (int i = 0; i < 1000; i++) {
                    Poll.poll();
                }
                published.incrementAndGet();
            } catch (CancelledSignal s) {
                signals.incrementAndGet();
                throw s;
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    /** A listener whose code polls, as a woven one does, and that throws now and then. */
    private static final class PollingListener implements java.util.function.Consumer<Result<Object>> {
        final Recorder<Object> recorder = new Recorder<>();
        final AtomicInteger signals = new AtomicInteger();
        final AtomicLong calls = new AtomicLong();

        @Override
        public void accept(Result<Object> r) {
            try {
                long until = System.nanoTime() + 100_000; // long enough for cancels to land inside
                while (System.nanoTime() < until) {
                    Poll.poll();
                }
            } catch (CancelledSignal s) {
                signals.incrementAndGet();
                throw s;
            }
            recorder.accept(r);
            if (calls.incrementAndGet() % 97 == 0) {
                throw new IllegalStateException("listener failed on purpose");
            }
        }
    }

    private static final class Harness {
        final AtomicInteger active = new AtomicInteger();
        final AtomicInteger overlaps = new AtomicInteger();
        final AtomicInteger calls = new AtomicInteger();
        final List<Thread> threads = new CopyOnWriteArrayList<>();
        final Recorder<Object> recorder = new Recorder<>();
        /** Values returned by callbacks that already saw their cancellation: must never show. */
        final Set<Object> discarded = ConcurrentHashMap.newKeySet();
        final PollingListener pollingListener = new PollingListener();
        final AtomicInteger cleanupsStarted = new AtomicInteger();
        final AtomicInteger cleanupsFinished = new AtomicInteger();
        final java.nio.file.Path dir = createTempDir();
        final AtomicInteger files = new AtomicInteger();
        final ThreadFactory factory = task -> {
            Thread t = new Thread(task);
            t.setDaemon(true);
            threads.add(t);
            return t;
        };
        UseThread<Object> job;
    }

    private void run(long seed, int ops) throws Exception {
        Random seeds = new Random(seed);
        AtomicLong valueIds = new AtomicLong();
        List<Harness> harnesses = new ArrayList<>();
        for (int j = 0; j < JOBS; j++) {
            Harness h = new Harness();
            long jobSeed = seeds.nextLong();
            AtomicLong runSeeds = new AtomicLong(jobSeed);
            UseThread.Options options = UseThread.options().name("stress-" + j).threadFactory(h.factory)
                    .intrusive(j % 2 == 0).closeTimeout(Duration.ofSeconds(60));
            if (j < JOBS / 2) { // streaming jobs: the value is the last one emitted
                h.job = options.useThread((CancelEvent cancel, Emitter<Object> emit) -> {
                    enter(h);
                    try {
                        behave(new Random(runSeeds.incrementAndGet()), cancel, emit, valueIds, h);
                    } finally {
                        h.active.decrementAndGet();
                    }
                });
            } else { // jobs that return their value
                h.job = options.useThread((CancelEvent cancel) -> {
                    enter(h);
                    try {
                        Object[] last = new Object[1];
                        behave(new Random(runSeeds.incrementAndGet()), cancel, v -> last[0] = v, valueIds, h);
                        Object v = last[0] != null ? last[0] : value(valueIds, "returned");
                        if (cancel.isSet()) {
                            h.discarded.add(v); // returned after cancellation: must never show
                        }
                        return v;
                    } finally {
                        h.active.decrementAndGet();
                    }
                });
            }
            h.job.subscribe(h.recorder);
            h.job.subscribe(h.pollingListener);
            harnesses.add(h);
        }

        CyclicBarrier start = new CyclicBarrier(DRIVERS);
        List<Thread> drivers = new ArrayList<>();
        List<Throwable> driverErrors = new CopyOnWriteArrayList<>();
        AtomicInteger remaining = new AtomicInteger(ops);
        for (int d = 0; d < DRIVERS; d++) {
            Random rnd = new Random(seeds.nextLong());
            Thread driver = new Thread(() -> {
                try {
                    start.await();
                    while (remaining.getAndDecrement() > 0) {
                        operate(rnd, harnesses.get(rnd.nextInt(JOBS)));
                    }
                } catch (Throwable t) {
                    driverErrors.add(t);
                }
            }, "driver-" + d);
            drivers.add(driver);
            driver.start();
        }
        for (Thread driver : drivers) {
            driver.join(Duration.ofMinutes(5).toMillis());
            assertThat(driver.isAlive()).as("driver finished").isFalse();
        }
        assertThat(driverErrors).isEmpty();

        for (Harness h : harnesses) {
            h.job.close();
            for (Thread t : h.threads) {
                assertThat(t.isAlive()).as("thread %s alive after close()", t.getName()).isFalse();
            }
            Result<Object> last = h.job.result();
            assertThat(last.state().isTerminal()).as("final state %s", last).isTrue();
            if (last.state() == FINISHED) {
                assertThat(last.error()).isNull();
            }
            if (last.state() == ERROR) {
                assertThat(last.error()).isNotNull();
            }
            Recorder.awaitTrue("the subscriber got the final snapshot", () -> last.equals(h.recorder.last()));
            Recorder.awaitTrue("the polling listener got the final snapshot",
                    () -> last.equals(h.pollingListener.recorder.last()));
            assertThat(h.overlaps.get()).as("two callbacks of one job at once").isZero();
            checkSequence(h.recorder.snapshots(), h.discarded);
            checkSequence(h.pollingListener.recorder.snapshots(), h.discarded);
            // It subscribed a little later: from its first snapshot on, it saw exactly what the first did.
            List<Result<Object>> all = h.recorder.snapshots();
            List<Result<Object>> polled = h.pollingListener.recorder.snapshots();
            int from = all.indexOf(polled.get(0));
            assertThat(from).as("the polling listener's first snapshot was published").isNotNegative();
            assertThat(polled).as("the polling listener saw every change").isEqualTo(all.subList(from, all.size()));
            assertThat(h.pollingListener.signals.get()).as("signals inside a listener").isZero();
            assertThat(h.cleanupsFinished.get()).as("cleanups finished of %d started", h.cleanupsStarted.get())
                    .isEqualTo(h.cleanupsStarted.get());
            try (java.util.stream.Stream<java.nio.file.Path> written = java.nio.file.Files.list(h.dir)) {
                for (java.nio.file.Path f : (Iterable<java.nio.file.Path>) written::iterator) {
                    assertThat(java.nio.file.Files.size(f)).as("shielded file %s", f).isEqualTo(FILE_BYTES);
                }
            }
        }
        int totalCalls = harnesses.stream().mapToInt(h -> h.calls.get()).sum();
        System.out.println("StressTest: " + ops + " operations, " + totalCalls + " callbacks ran");
        assertThat(totalCalls).isPositive();
    }

    private static void enter(Harness h) {
        h.calls.incrementAndGet();
        if (h.active.incrementAndGet() > 1) {
            h.overlaps.incrementAndGet();
        }
    }

    /** One random callback behaviour. */
    private static void behave(Random rnd, CancelEvent cancel, Emitter<Object> emit, AtomicLong ids, Harness h)
            throws Exception {
        switch (rnd.nextInt(9)) {
            case 7: { // work, then a finally block that calls woven code (hand-woven: hooks as the agent puts them)
                long until = System.nanoTime() + rnd.nextInt(2_000_000);
                try {
                    while (System.nanoTime() < until) {
                        Poll.poll();
                        Cancellation.checkpoint();
                    }
                } catch (Throwable t) {
                    Poll.caught(t);
                    h.cleanupsStarted.incrementAndGet();
                    cleanup();
                    h.cleanupsFinished.incrementAndGet();
                    Poll.thrown(t);
                    throw t;
                }
                return;
            }
            case 8: { // compute, then write a file in a shielded region
                java.nio.file.Path file = h.dir.resolve("f" + h.files.incrementAndGet());
                for (int round = 0; round < 1 + rnd.nextInt(3); round++) {
                    for (int i = 0; i < 20_000; i++) {
                        Poll.poll();
                        Cancellation.checkpoint();
                    }
                    Cancellation.shielded(() -> writeWhole(file));
                }
                return;
            }
            case 0: // finish at once
                emit.emit(value(ids, "quick"));
                return;
            case 1: // throw
                throw new IllegalStateException("failed on purpose");
            case 2: // stream several values
                for (int i = 0; i < 1 + rnd.nextInt(20); i++) {
                    emit.emit(value(ids, "partial"));
                }
                return;
            case 3: { // ignore cancellation for a while, then return a value
                long until = System.nanoTime() + rnd.nextInt(2_000_000);
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
                Object v = value(ids, "ignored-cancel");
                if (cancel.isSet()) {
                    h.discarded.add(v);
                }
                emitQuietly(emit, v);
                return;
            }
            case 4: // catch Throwable around a checkpoint loop and keep going (bounded)
                for (int round = 0; round < 50; round++) {
                    try {
                        for (int i = 0; i < 1000; i++) {
                            Cancellation.checkpoint();
                        }
                    } catch (Throwable t) {
                        // swallowed, as careless code does
                    }
                    if (cancel.isSet()) {
                        Cancellation.checkpoint(); // sticky: throws again here
                    }
                }
                return;
            case 5: // block (interruptible) until cancelled or a short timeout
                LockSupport.parkNanos(rnd.nextInt(3_000_000));
                cancel.throwIfSet();
                return;
            default: // wait for the cancel event cooperatively, bounded
                long deadline = System.nanoTime() + rnd.nextInt(1_000_000);
                while (!cancel.isSet() && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                cancel.throwIfSet();
        }
    }

    private static final int FILE_BYTES = 64 * 1024;

    /** Cleanup code that polls at its entry and in its loop, as woven code does. */
    private static void cleanup() {
        Poll.poll();
        for (int i = 0; i < 5_000; i++) {
            Poll.poll();
        }
    }

    private static void writeWhole(java.nio.file.Path file) {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE,
                java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
            java.nio.ByteBuffer data = java.nio.ByteBuffer.allocate(FILE_BYTES);
            while (data.hasRemaining()) {
                ch.write(data);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static java.nio.file.Path createTempDir() {
        try {
            java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("usethread-stress");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void emitQuietly(Emitter<Object> emit, Object v) {
        try {
            emit.emit(v);
        } catch (CancelledSignal expected) {
            // emitting after cancellation throws: the value is discarded
        }
    }

    private static Object value(AtomicLong ids, String kind) {
        return kind + "-" + ids.incrementAndGet();
    }

    private static void operate(Random rnd, Harness h) throws InterruptedException {
        UseThread<Object> job = h.job;
        switch (rnd.nextInt(10)) {
            case 0:
            case 1:
                job.cancel();
                break;
            case 2:
            case 3:
                job.retry();
                break;
            case 4:
            case 5:
                job.setDependencies(rnd.nextInt(3));
                break;
            case 6:
                job.result().cancel();
                break;
            case 7:
                job.result().retry();
                break;
            case 8:
                try {
                    job.await(Duration.ofMillis(rnd.nextInt(3)));
                } catch (TimeoutException expected) {
                    // a short await may time out
                }
                break;
            default:
                Result<Object> r = job.result();
                assertThat(r.state()).isNotNull();
        }
    }

    private static final Map<ResultState, Set<ResultState>> SAME_RUN = Map.of(
            STARTING, EnumSet.of(WAITING, RUNNING, CANCELLED, ERROR),
            WAITING, EnumSet.of(RUNNING, CANCELLED),
            RUNNING, EnumSet.of(RUNNING, FINISHED, ERROR, CANCELLED),
            FINISHED, EnumSet.noneOf(ResultState.class),
            ERROR, EnumSet.noneOf(ResultState.class),
            CANCELLED, EnumSet.noneOf(ResultState.class));

    /** Every consecutive pair of snapshots must be a legal transition. */
    static void checkSequence(List<Result<Object>> seen, Set<Object> discarded) {
        for (int i = 1; i < seen.size(); i++) {
            Result<Object> a = seen.get(i - 1);
            Result<Object> b = seen.get(i);
            String where = "snapshot " + i + ": " + a + " -> " + b;
            if (b.run() != a.run()) {
                assertThat(b.run()).as(where).isEqualTo(a.run() + 1);
                assertThat(b.state()).as(where).isEqualTo(STARTING);
                assertThat(b.value()).as(where).isEqualTo(a.value());
                assertThat(b.error()).as(where).isEqualTo(a.error());
                continue;
            }
            assertThat(SAME_RUN.get(a.state())).as(where).contains(b.state());
            switch (b.state()) {
                case WAITING:
                case CANCELLED:
                    assertThat(b.value()).as(where).isEqualTo(a.value());
                    assertThat(b.error()).as(where).isEqualTo(a.error());
                    break;
                case RUNNING:
                    assertThat(b.error()).as(where).isEqualTo(a.error());
                    break;
                case FINISHED:
                    assertThat(b.error()).as(where).isNull();
                    break;
                case ERROR:
                    assertThat(b.error()).as(where).isNotNull();
                    assertThat(b.value()).as(where).isEqualTo(a.value());
                    break;
                default:
            }
        }
        for (Result<Object> r : seen) {
            assertThat(discarded).as("a value returned after cancellation shows in %s", r)
                    .doesNotContain(r.value());
            assertThat(Objects.requireNonNullElse(r.state(), STARTING)).isNotNull();
        }
    }
}
