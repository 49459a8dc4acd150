package dev.usethread.demo;

import dev.usethread.CancelEvent;
import dev.usethread.Cancellation;
import dev.usethread.Emitter;
import dev.usethread.Result;
import dev.usethread.ResultState;
import dev.usethread.UseThread;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * The usethread demo: a streaming job with a live progress line, cancel and retry, a dependency
 * change that supersedes a running job (WAITING visible), and runaway code nobody here wrote
 * (a catastrophic regular expression in java.util.regex) stopped by the agent. Ends by itself.
 */
public final class Demo {
    private static final PrintStream OUT = System.out;
    private static final Duration LIMIT = Duration.ofSeconds(60);
    private static final long START = System.nanoTime();

    private Demo() {
    }

    public static void main(String[] args) throws Exception {
        OUT.println("usethread demo: intrusive cancellation for the JVM");
        OUT.println("agent installed: " + Cancellation.isIntrusive()
                + (Cancellation.isIntrusive() ? "" : " (only cooperative cancellation: run demo/run.sh)"));
        streamingJobFinishesThenIsCancelledAndRetried();
        dependencyChangeSupersedesARunningJob();
        runawayRegexIsCancelled();
        deadlineOnTheCallingThread();
        OUT.println();
        OUT.println("demo finished: every job closed, no thread left running");
    }

    /** Counts primes below a limit, emitting the count every 5,000 numbers. */
    static void countPrimes(int limit, CancelEvent cancel, Emitter<Integer> emit) {
        int found = 0;
        for (int n = 2; n < limit; n++) {
            if (isPrime(n)) {
                found++;
            }
            if (n % 20_000 == 0) {
                emit.emit(found); // also a cancellation point, agent or not
            }
        }
        emit.emit(found);
    }

    static boolean isPrime(int n) {
        for (int d = 2; (long) d * d <= n; d++) {
            if (n % d == 0) {
                return false;
            }
        }
        return true;
    }

    private static void streamingJobFinishesThenIsCancelledAndRetried() throws Exception {
        section("1. a streaming job with partial results");
        int limit = 2_000_000;
        try (UseThread<Integer> job = UseThread.options().name("primes")
                .useThread((CancelEvent cancel, Emitter<Integer> emit) -> countPrimes(limit, cancel, emit))) {
            job.subscribe(Demo::printTransition);
            Result<Integer> done = job.await(LIMIT);
            awaitShown(done);
            OUT.printf("primes below %,d: %,d (%s)%n", limit, done.value(), done.state());

            section("2. retry, then cancel it half-way");
            job.retry();
            awaitValue(job, 40_000, done.value()); // a partial value of this run, not the last one
            long cancelAt = System.nanoTime();
            job.cancel();
            Result<Integer> cancelled = job.await(LIMIT);
            awaitShown(cancelled);
            endProgress();
            OUT.printf("state %s after %s; the partial value %,d stays visible%n", cancelled.state(),
                    millis(System.nanoTime() - cancelAt), cancelled.value());
            Result<Integer> again = job.retry();
            OUT.println("retry() returns at once in state " + again.state());
            Result<Integer> finished = job.await(LIMIT);
            awaitShown(finished);
            endProgress();
            OUT.printf("retried run: %s with %,d%n", finished.state(), finished.value());
        }
    }

    private static void dependencyChangeSupersedesARunningJob() throws Exception {
        section("3. a dependency change supersedes a running job");
        try (UseThread<String> search = UseThread.options().name("search").dependencies("usethread")
                .useThread(cancel -> {
                    String query = (String) currentQuery.get();
                    // A short region that must not be torn (say, writing a cache entry): the next run
                    // waits for it, so two callbacks of one job never run at once.
                    Cancellation.shielded(() -> busyFor(Duration.ofMillis(300)));
                    long hits = 0;
                    for (int i = 0; i < 3_000_000; i++) {
                        if (Integer.toString(i).contains("7")) {
                            hits++;
                        }
                    }
                    return "results for '" + query + "': " + hits;
                })) {
            search.subscribe(Demo::printTransition);
            busyFor(Duration.ofMillis(50));
            currentQuery.set("jvm");
            Result<String> changed = search.setDependencies("jvm");
            OUT.println("setDependencies(\"jvm\") returns " + changed.state() + " at once");
            Result<String> done = search.await(LIMIT);
            awaitShown(done);
            OUT.println(done.state() + ": " + done.value());
        }
    }

    private static final java.util.concurrent.atomic.AtomicReference<Object> currentQuery =
            new java.util.concurrent.atomic.AtomicReference<>("usethread");

    private static void runawayRegexIsCancelled() throws Exception {
        section("4. a runaway regular expression in java.util.regex (code nobody here wrote)");
        // A backreference defeats the JDK's backtracking optimizations: 20 characters take seconds,
        // each more doubles the time; 64 would take longer than the universe has existed.
        String input = "x".repeat(64);
        OUT.println("Pattern ((x+)\\2?)+y against " + input.length() + " x's: exponential backtracking");
        if (!Cancellation.isIntrusive()) {
            OUT.println("skipped: without the agent nothing can stop it (run demo/run.sh)");
            return;
        }
        Pattern pattern = Pattern.compile("((x+)\\2?)+y");
        try (UseThread<Boolean> job = UseThread.options().name("regex")
                .useThread(() -> pattern.matcher(input).matches())) {
            job.subscribe(Demo::printTransition);
            awaitState(job, ResultState.RUNNING);
            busyFor(Duration.ofMillis(300));
            long cancelAt = System.nanoTime();
            job.cancel();
            Result<Boolean> r = job.await(LIMIT);
            awaitShown(r);
            OUT.println("regex job " + r.state() + " " + millis(System.nanoTime() - cancelAt)
                    + " after cancel()");
            job.retry();
            busyFor(Duration.ofMillis(100));
            cancelAt = System.nanoTime();
            job.cancel();
            r = job.await(LIMIT);
            awaitShown(r);
            OUT.println("retried and cancelled again: " + r.state() + " " + millis(System.nanoTime() - cancelAt)
                    + " after cancel()");
        }
    }

    private static void deadlineOnTheCallingThread() {
        section("5. a deadline on the calling thread: Cancellation.withTimeout");
        if (!Cancellation.isIntrusive()) {
            OUT.println("skipped: without the agent the regex cannot be stopped");
            return;
        }
        Pattern pattern = Pattern.compile("((x+)\\2?)+y");
        long start = System.nanoTime();
        try {
            Cancellation.withTimeout(Duration.ofMillis(250), () -> pattern.matcher("x".repeat(64)).matches());
            OUT.println("unexpected: the regex finished");
        } catch (TimeoutException e) {
            OUT.println("TimeoutException after " + millis(System.nanoTime() - start) + ": " + e.getMessage());
        }
    }

    // ---- printing ----

    private static ResultState lastPrinted;
    private static Result<?> lastShown;
    private static long lastProgressNanos;

    /** The listener: one line per state change, and one live progress line for partial values. */
    private static synchronized void printTransition(Result<?> r) {
        lastShown = r;
        Demo.class.notifyAll();
        if (r.state() == ResultState.RUNNING && lastPrinted == ResultState.RUNNING && r.value() != null) {
            long now = System.nanoTime();
            if (now - lastProgressNanos > 50_000_000L) { // a terminal line, not a flood
                lastProgressNanos = now;
                OUT.printf("\r  %8s  RUNNING   partial value: %s   ", elapsed(), r.value());
                OUT.flush();
                progressOpen = true;
            }
            return;
        }
        endProgress();
        OUT.printf("  %8s  %-9s run %d%s%n", elapsed(), r.state(), r.run(),
                r.value() == null ? "" : "  value: " + r.value());
        lastPrinted = r.state();
    }

    /** Waits until the listener has shown the job's terminal snapshot, so lines stay in order. */
    private static synchronized void awaitShown(Result<?> terminal) throws InterruptedException {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (lastShown == null || lastShown.run() != terminal.run() || lastShown.state() != terminal.state()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IllegalStateException("the listener did not show " + terminal + " within " + LIMIT);
            }
            Demo.class.wait(Math.max(1, left / 1_000_000));
        }
    }

    private static boolean progressOpen;

    private static synchronized void endProgress() {
        if (progressOpen) {
            OUT.println();
            progressOpen = false;
        }
    }

    private static void section(String title) {
        endProgress();
        OUT.println();
        OUT.println("== " + title);
        lastPrinted = null;
    }

    private static String elapsed() {
        return String.format(Locale.ROOT, "%.3fs", (System.nanoTime() - START) / 1e9);
    }

    private static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
    }

    private static void busyFor(Duration d) {
        long until = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }

    private static void awaitValue(UseThread<Integer> job, int atLeast, int below) throws InterruptedException {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (true) {
            Result<Integer> r = job.result();
            Integer v = r.value();
            if (r.state() == ResultState.RUNNING && v != null && v >= atLeast && v < below) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no value >= " + atLeast + " within " + LIMIT);
            }
            Thread.sleep(1);
        }
    }

    private static void awaitState(UseThread<?> job, ResultState state) throws InterruptedException {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (job.result().state() != state) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not " + state + " within " + LIMIT);
            }
            Thread.sleep(1);
        }
    }
}
