package dev.usethread.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A long-running deadline service: the two workers of {@link DeadlineService} serve library
 * requests under a 50 ms {@code withTimeout} for {@code seconds}; with {@code deadlines}, one
 * request a second is pathological and stopped by its deadline, with {@code none} none is. Reports
 * the good-request throughput (per worker-second outside pathological requests) of the last minute
 * (the last third of a run shorter than three minutes) and of the first minute.
 *
 * <p>Arguments: {@code deadlines|none seconds label resultFile}. The markdown row
 * {@code | label | deadlines | seconds | good/s first minute | good/s last minute | deadlines fired | good timed out |}
 * goes to {@code resultFile}, because the JVM's stdout carries {@code -XX:+PrintCompilation}.
 */
public final class LongRun {
    public static void main(String[] args) throws Exception {
        if (args.length < 4 || !(args[0].equals("deadlines") || args[0].equals("none"))) {
            throw new IllegalArgumentException("usage: LongRun deadlines|none seconds label resultFile");
        }
        boolean deadlines = args[0].equals("deadlines");
        int seconds = Integer.parseInt(args[1]);
        if (seconds < 3) {
            throw new IllegalArgumentException("a long run needs at least 3 seconds, not " + seconds);
        }
        String label = args[2];
        Path resultFile = Path.of(args[3]);
        AtomicBoolean due = new AtomicBoolean();
        DeadlineService.timeout = Duration.ofMillis(50);
        Thread[] threads = new Thread[DeadlineService.WORKERS];
        for (int w = 0; w < threads.length; w++) {
            DeadlineService.Worker worker = new DeadlineService.Worker();
            DeadlineService.workers[w] = worker;
            threads[w] = new Thread(() -> DeadlineService.serve(worker, i -> due.getAndSet(false)), "worker-" + w);
            threads[w].setDaemon(true);
            threads[w].start();
        }
        long[][] samples = new long[seconds + 1][];
        long start = System.nanoTime();
        samples[0] = DeadlineService.totals();
        for (int s = 1; s <= seconds; s++) {
            long wake = start + s * 1_000_000_000L;
            Thread.sleep(Math.max(0, (wake - System.nanoTime()) / 1_000_000));
            samples[s] = DeadlineService.totals();
            if (deadlines) {
                due.set(true); // the next request either worker takes is pathological
            }
        }
        DeadlineService.stop = true;
        for (Thread t : threads) {
            t.join(10_000);
        }
        for (DeadlineService.Worker w : DeadlineService.workers) {
            if (w.failure != null) {
                throw new IllegalStateException("a worker failed", w.failure);
            }
        }
        int window = seconds >= 180 ? 60 : Math.max(1, seconds / 3);
        long[] end = samples[seconds];
        String row = String.format(Locale.ROOT, "| %s | %s | %d | %.4g | %.4g | %d | %d |%n", label,
                deadlines ? "1 a second" : "none", seconds, rate(samples[0], samples[window], window),
                rate(samples[seconds - window], end, window), end[3], end[1]);
        Files.writeString(resultFile, row);
        if (deadlines && end[3] == 0) {
            throw new IllegalStateException("no deadline fired in " + seconds + " s");
        }
    }

    /** Good requests per second per worker-second outside pathological requests, times the workers. */
    private static double rate(long[] from, long[] to, int seconds) {
        double workerSeconds = DeadlineService.WORKERS * seconds - (to[4] - from[4]) / 1e9;
        return DeadlineService.WORKERS * (to[0] - from[0]) / workerSeconds;
    }

    private LongRun() {
    }
}
