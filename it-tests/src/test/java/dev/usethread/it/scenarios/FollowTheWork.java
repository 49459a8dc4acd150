package dev.usethread.it.scenarios;

import dev.usethread.Cancellation;
import dev.usethread.CancelledSignal;
import dev.usethread.Result;
import dev.usethread.ResultState;
import dev.usethread.UseThread;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

/**
 * Work a job hands to other threads stops with the job. Modes: {@code stream} (a parallel stream
 * on the common pool), {@code executor} (a fixed pool: submit and execute, a scheduled pool,
 * CompletableFuture.supplyAsync on the default and on a given executor, and a task of an outsider
 * thread on the same pool that must never be stopped), {@code nested} (a pool task of the job runs a
 * parallel stream and hands a supplyAsync to a second pool). Stopped means: no thread is in {@link #burn} and
 * those that were use no CPU (ThreadMXBean), within {@link #STOP_BOUND} of the cancel. With
 * {@code expect=busy} (the agent's propagate=false) it checks the opposite, proving the check bites.
 */
public final class FollowTheWork {
    /** The bound the design asks for; a stopped thread uses no CPU at all, so load does not blur it. */
    static final Duration STOP_BOUND = Duration.ofSeconds(2);
    static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();
    static volatile boolean releaseOutsider;

    /** CPU-bound and never checks anything: only the woven polls can stop it. */
    static long burn(long seed) {
        long x = seed;
        for (long i = 0; i < Long.MAX_VALUE; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            if (x == 42) {
                break;
            }
        }
        return x;
    }

    /** The outsider's task: as CPU-bound as burn, but ends when released. */
    static long spinUntilReleased() {
        long n = 0;
        while (!releaseOutsider) {
            n++;
        }
        return n;
    }

    public static void main(String[] args) {
        String mode = args[0];
        boolean expectBusy = args.length > 1 && args[1].equals("expect=busy");
        try {
            Harness.report("INTRUSIVE", String.valueOf(Cancellation.isIntrusive()));
            switch (mode) {
                case "stream":
                    stream(expectBusy);
                    break;
                case "executor":
                    executor();
                    break;
                case "nested":
                    nested();
                    break;
                default:
                    Harness.fail("unknown mode " + mode);
            }
            Harness.ok();
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            Harness.fail("scenario threw " + t);
        }
    }

    static void stream(boolean expectBusy) throws Exception {
        UseThread<Object> job = UseThread.options().name("stream")
                .useThread(() -> LongStream.range(0, 64).parallel().map(FollowTheWork::burn).sum());
        List<Thread> burners = awaitBurners(t -> t.getName().startsWith("ForkJoinPool.commonPool-worker"), 1);
        cancel(job);
        if (expectBusy) {
            Thread.sleep(STOP_BOUND.toMillis());
            Harness.report("STILL_BURNING", String.valueOf(burning().size()));
            return; // System.exit ends the pool
        }
        awaitStopped(burners);
        long expected = LongStream.rangeClosed(1, 200_000).map(i -> i * i % 1_000_003).sum();
        long got = LongStream.rangeClosed(1, 200_000).parallel().map(i -> i * i % 1_000_003).sum();
        Harness.report("NEXT_STREAM", got == expected ? "OK" : "wrong sum " + got + ", expected " + expected);
        checkCommonPoolClean();
    }

    static void executor() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        ExecutorService given = Executors.newFixedThreadPool(1);
        ScheduledExecutorService scheduled = Executors.newScheduledThreadPool(1);
        Future<Long> outsider = pool.submit(FollowTheWork::spinUntilReleased); // from main: no job
        Map<String, Object> handedOff = new HashMap<>();
        UseThread<Object> job = UseThread.options().name("executor").useThread(() -> {
            Future<Long> submitted = pool.submit(() -> burn(1));
            pool.execute(() -> burn(2));
            Future<?> delayed = scheduled.schedule(() -> burn(3), 1, TimeUnit.MILLISECONDS);
            CompletableFuture<Long> async = CompletableFuture.supplyAsync(() -> burn(4));
            CompletableFuture<Long> asyncGiven = CompletableFuture.supplyAsync(() -> burn(5), given);
            synchronized (handedOff) {
                handedOff.put("submit", submitted);
                handedOff.put("schedule", delayed);
                handedOff.put("supplyAsync", async);
                handedOff.put("supplyAsync(executor)", asyncGiven);
            }
            return submitted.get();
        });
        List<Thread> burners = awaitBurners(t -> true, 5);
        cancel(job);
        awaitStopped(burners);
        synchronized (handedOff) {
            for (Map.Entry<String, Object> e : handedOff.entrySet()) {
                Harness.report("OUTCOME_" + e.getKey().replaceAll("[^a-zA-Z]", "_"), outcome((Future<?>) e.getValue()));
            }
        }
        Harness.report("OUTSIDER_RUNNING", String.valueOf(!outsider.isDone()));
        releaseOutsider = true;
        Harness.report("OUTSIDER", String.valueOf(outsider.get(Harness.BOUND.toSeconds(), TimeUnit.SECONDS) > 0));
        for (ExecutorService e : List.of(pool, given, scheduled)) {
            Harness.report("NEXT_TASK", nextTask(e));
        }
        Harness.report("NEXT_SUPPLY_ASYNC", CompletableFuture.supplyAsync(() -> 7 * 6).get(30, TimeUnit.SECONDS) == 42
                ? "OK" : "wrong");
    }

    static void nested() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(1);
        ExecutorService deeperPool = Executors.newFixedThreadPool(1);
        UseThread<Object> job = UseThread.options().name("nested").useThread(() -> pool.submit(() -> {
            // On the pool thread, under the job's inherited cancellation, hand off further: the
            // stream's common-pool workers fork subtasks of their own.
            CompletableFuture<Long> deeper = CompletableFuture.supplyAsync(() -> burn(7), deeperPool);
            long s = LongStream.range(0, 64).parallel().map(FollowTheWork::burn).sum();
            return s + deeper.join();
        }).get());
        List<Thread> burners = awaitBurners(t -> true, 3);
        cancel(job);
        awaitStopped(burners);
        Harness.report("NEXT_TASK", nextTask(pool));
        Harness.report("NEXT_TASK", nextTask(deeperPool));
        checkCommonPoolClean();
    }

    static void cancel(UseThread<Object> job) throws Exception {
        job.cancel();
        Result<Object> r = job.await(Harness.BOUND);
        Harness.report("JOB", r.state().toString());
        if (r.state() != ResultState.CANCELLED) {
            Harness.fail("job ended " + r);
        }
    }

    /** Threads whose stack is in {@link #burn}. */
    static List<Thread> burning() {
        List<Thread> out = new ArrayList<>();
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
            for (StackTraceElement f : e.getValue()) {
                if (f.getClassName().equals(FollowTheWork.class.getName()) && f.getMethodName().equals("burn")) {
                    out.add(e.getKey());
                    break;
                }
            }
        }
        return out;
    }

    static List<Thread> awaitBurners(java.util.function.Predicate<Thread> which, int atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + Harness.BOUND.toNanos();
        while (true) {
            List<Thread> b = burning();
            b.removeIf(t -> !which.test(t));
            if (b.size() >= atLeast) {
                Harness.report("BURNERS", String.valueOf(b.size()));
                return b;
            }
            if (System.nanoTime() > deadline) {
                Harness.fail("only " + b.size() + " threads burning, expected " + atLeast + ": " + b);
            }
            Thread.sleep(10);
        }
    }

    /** Waits until no thread burns and the former burners use no CPU; reports how long it took. */
    static void awaitStopped(List<Thread> burners) throws InterruptedException {
        long t0 = System.nanoTime();
        long deadline = t0 + STOP_BOUND.toNanos();
        while (true) {
            long[] before = cpu(burners);
            Thread.sleep(50);
            long[] after = cpu(burners);
            boolean quiet = burning().isEmpty();
            long busiest = 0;
            for (int i = 0; i < burners.size(); i++) {
                if (before[i] >= 0 && after[i] >= 0) {
                    busiest = Math.max(busiest, after[i] - before[i]);
                }
            }
            // A stopped thread uses no CPU; 10 ms of 50 is room for a pool thread's own bookkeeping.
            if (quiet && busiest < TimeUnit.MILLISECONDS.toNanos(10)) {
                Harness.report("STOPPED", "in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
                return;
            }
            if (System.nanoTime() > deadline) {
                Harness.fail("still running " + STOP_BOUND + " after the cancel: burning " + burning()
                        + ", busiest former burner used " + busiest / 1_000_000 + " ms of CPU in 50 ms");
            }
        }
    }

    private static long[] cpu(List<Thread> threads) {
        long[] out = new long[threads.size()];
        for (int i = 0; i < out.length; i++) {
            @SuppressWarnings("deprecation") // getId(): threadId() needs Java 19
            long id = threads.get(i).getId();
            out[i] = MX.getThreadCpuTime(id); // -1 once the thread has ended
        }
        return out;
    }

    /** A stopped task's outcome: its future ends with the signal (or was never started). */
    static String outcome(Future<?> f) {
        try {
            f.get(Harness.BOUND.toSeconds(), TimeUnit.SECONDS);
            return "completed normally";
        } catch (ExecutionException | CompletionException e) {
            return e.getCause() instanceof CancelledSignal ? "CancelledSignal" : "failed with " + e.getCause();
        } catch (Exception e) {
            return "not done: " + e;
        }
    }

    /** The next task on a pool thread: runs, finds no interrupt and no cancellation of ours. */
    static String nextTask(ExecutorService e) throws Exception {
        return e.submit(() -> {
            if (Thread.currentThread().isInterrupted()) {
                return "interrupted";
            }
            if (Cancellation.isCancelled()) {
                return "cancelled";
            }
            return burnBriefly() > 0 ? "OK" : "?";
        }).get(Harness.BOUND.toSeconds(), TimeUnit.SECONDS);
    }

    private static long burnBriefly() {
        long n = 1;
        for (int i = 0; i < 1_000_000; i++) {
            n += i % 3;
        }
        return n;
    }

    /** Every common-pool worker is clean: a task forced onto each of them sees no cancellation. */
    static void checkCommonPoolClean() throws Exception {
        String verdict = java.util.concurrent.ForkJoinPool.commonPool().submit(() -> {
            return Thread.currentThread().isInterrupted() ? "interrupted"
                    : Cancellation.isCancelled() ? "cancelled" : "OK";
        }).get(Harness.BOUND.toSeconds(), TimeUnit.SECONDS);
        Harness.report("COMMON_POOL_NEXT", verdict);
    }
}
