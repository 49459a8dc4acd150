package dev.usethread.bench;

import dev.usethread.Cancellation;
import dev.usethread.DeadlineExceededException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntSupplier;
import java.util.function.LongPredicate;
import java.util.function.ToLongFunction;

/**
 * A deadline service: two worker threads serve library requests (Jackson parse, Rhino script,
 * regex, Guava; {@link LibraryWork#REQUESTS}) back to back, each under
 * {@link Cancellation#withTimeout}. In mode {@code a} one request in {@code every} (1 %) is
 * pathological (a catastrophic regex, an endless Rhino script) and only its deadline ends it; in
 * mode {@code b} all are good. Each mode runs in a JVM of its own, as a service would, in its steady
 * state: after a warm-up of good requests under a deadline that does not fire, mode {@code a} serves
 * with its pathological requests for a settling time (the first deadlines arm the poll sites of the
 * code they stop and the JIT recompiles it) before the measured phases.
 *
 * <p>Mode {@code ab} alternates the two in one JVM instead (b after the sites went idle again, then
 * a): every phase then starts with the sites armed or disarmed and the code recompiling, so it
 * measures those transitions, not a service's steady state.
 *
 * <p>Good-request throughput is counted per worker-second spent outside pathological requests:
 * the time a pathological request runs until its deadline is the request's own, the same with any
 * design, and what is measured is what the deadlines cost the good requests (both workers'). The
 * wall-clock rate is printed too. The median of the measured phases is reported.
 *
 * <p>Arguments: {@code a|b|ab phaseMillis phases label [timeoutMillis=50] [every=100]
 * [warmupMillis=2 phases] [settleMillis=warmupMillis]}. Modes {@code a} and {@code ab} need the
 * agent (without it a pathological request is never stopped), except with the controls below.
 * Prints one markdown row:
 * {@code | label | agent or no agent (and mode) | a good/s | a good/s wall | b good/s | a/b | deadlines/s in a | pathological stopped | good requests timed out |}.
 */
public final class DeadlineService {
    static final int WORKERS = 2;
    static volatile boolean pathological;
    static volatile boolean stop;
    /** The deadline of each request: generous while warming up (a cold first request is slow). */
    static volatile Duration timeout = Duration.ofSeconds(10);
    static final Worker[] workers = new Worker[WORKERS];
    /** The good requests served, in turn: all of them, or those named by -Dbench.requests=a,b (to find which one is slow). */
    static final List<String> KINDS = System.getProperty("bench.requests") == null
            ? LibraryWork.REQUESTS : List.of(System.getProperty("bench.requests").split(","));
    /**
     * Control ({@code -Dbench.pathological=spin}): each "pathological" request spins for 45 ms and
     * ends by itself before its deadline, so the workers' CPU pattern is that of mode a without any
     * deadline firing; tells what the deadlines cost from what a busy neighbour costs.
     */
    static final boolean SPIN_CONTROL = "spin".equals(System.getProperty("bench.pathological"));
    /**
     * Control ({@code -Dbench.pathological=bounded}, without the agent and with a deadline none of
     * them reaches, run.sh: 10 s): the "pathological" requests run the same library code as the real
     * ones (the catastrophic regex on 17 x's, the Rhino loop for 250,000 iterations: tens of
     * milliseconds each) and end by themselves, and no cancellation ever happens. So it tells what
     * serving those requests costs the good ones (the JIT's profiles and caches they share) from what
     * stopping them costs. (With the agent, a request slow once, in the interpreter, reaches even a
     * long deadline, and each one that fires arms the shared code and slows the next ones.)
     */
    static final boolean BOUNDED_CONTROL = "bounded".equals(System.getProperty("bench.pathological"));
    static final List<String> PATHOLOGICAL = BOUNDED_CONTROL ? LibraryWork.BOUNDED : LibraryWork.PATHOLOGICAL;
    /** A control runs: its "pathological" requests end by themselves, with or without the agent. */
    static final boolean CONTROL = SPIN_CONTROL || BOUNDED_CONTROL;

    /** One worker's counters; written by the worker only, read by the phase controller. */
    static final class Worker {
        volatile long good;
        volatile long goodTimedOut;
        volatile long pathologicalAsked;
        volatile long pathologicalStopped;
        volatile Throwable failure;
        /** Time spent in pathological requests that ended; guarded by this. */
        private long pathologicalNanos;
        /** Whether a pathological request is in progress, and since when; guarded by this. */
        private boolean inPathological;
        private long pathologicalSince;

        synchronized void pathologicalBegan(long now) {
            inPathological = true;
            pathologicalSince = now;
        }

        synchronized void pathologicalEnded(long now) {
            pathologicalNanos += now - pathologicalSince;
            inPathological = false;
        }

        synchronized boolean inPathological() {
            return inPathological;
        }

        /** Time spent in pathological requests up to {@code now}, the one in progress included. */
        synchronized long pathologicalNanos(long now) {
            return pathologicalNanos + (inPathological ? now - pathologicalSince : 0);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 4 || !List.of("a", "b", "ab").contains(args[0])) {
            throw new IllegalArgumentException("usage: DeadlineService a|b|ab phaseMillis phases label [timeoutMillis] [every] [warmupMillis] [settleMillis]");
        }
        String mode = args[0];
        boolean withPathological = !mode.equals("b");
        long phaseMillis = Long.parseLong(args[1]);
        int phases = Integer.parseInt(args[2]);
        String label = args[3];
        Duration measuredTimeout = Duration.ofMillis(args.length > 4 ? Long.parseLong(args[4]) : 50);
        int every = args.length > 5 ? Integer.parseInt(args[5]) : 100;
        long warmupMillis = args.length > 6 ? Long.parseLong(args[6]) : 2 * phaseMillis;
        long settleMillis = args.length > 7 ? Long.parseLong(args[7]) : warmupMillis;
        if (withPathological && !Cancellation.isIntrusive() && !CONTROL) {
            throw new IllegalStateException("mode " + mode + " needs the agent: without it a pathological request never ends");
        }
        Thread[] threads = new Thread[WORKERS];
        for (int w = 0; w < WORKERS; w++) {
            Worker worker = new Worker();
            workers[w] = worker;
            threads[w] = new Thread(() -> serve(worker, i -> pathological && i % every == every - 1), "worker-" + w);
            threads[w].setDaemon(true);
            threads[w].start();
        }
        // Warm-up under a deadline that does not fire: a cold request can take longer than the
        // measured timeout, and one fired deadline is enough to change what the JIT has compiled.
        // With the agent the woven libraries take many seconds to be compiled on a loaded machine.
        phase(false, warmupMillis);
        timeout = measuredTimeout;
        List<Phase> as = new ArrayList<>();
        List<Phase> bs = new ArrayList<>();
        if (mode.equals("ab")) {
            phase(true, phaseMillis);
            for (int i = 0; i < phases; i++) {
                PollProbe.awaitIdle(40_000, 1_000); // b runs as a service that has not seen a deadline
                bs.add(phase(false, phaseMillis));
                as.add(phase(true, phaseMillis));
            }
        } else {
            phase(withPathological, settleMillis);
            for (int i = 0; i < phases; i++) {
                (withPathological ? as : bs).add(phase(withPathological, phaseMillis));
            }
        }
        if (Boolean.getBoolean("bench.diagnose")) {
            System.err.println(armedFramesOfGoodRequests(threads, 500));
        }
        stop = true;
        for (Thread t : threads) {
            t.join(10_000);
        }
        for (Worker w : workers) {
            if (w.failure != null) {
                throw new IllegalStateException("a worker failed", w.failure);
            }
        }
        if (Boolean.getBoolean("bench.diagnose")) {
            System.err.println("target changes " + PollProbe.targetChangesText() + "; globally armed "
                    + PollProbe.globallyArmedText());
        }
        String jvm = Cancellation.isIntrusive() ? "agent" : "no agent";
        if (mode.equals("b")) {
            Phase b = median(bs);
            System.out.printf(Locale.ROOT, "| %s | %s, no pathological | | | %.4g | | | | %d |%n",
                    label, jvm, b.goodPerSecond, total(bs, Phase::goodTimedOut));
            return;
        }
        Phase a = median(as);
        String b = bs.isEmpty() ? "" : String.format(Locale.ROOT, "%.4g", median(bs).goodPerSecond);
        String ab = bs.isEmpty() ? "" : String.format(Locale.ROOT, "%.3f", a.goodPerSecond / median(bs).goodPerSecond);
        System.out.printf(Locale.ROOT, "| %s | %s | %.4g | %.4g | %s | %s | %.1f | %d/%d | %d |%n",
                label, mode.equals("ab") ? jvm + ", alternating" : jvm, a.goodPerSecond, a.goodPerWallSecond, b, ab,
                a.deadlinesPerSecond, total(as, Phase::stopped), total(as, Phase::asked),
                total(as, Phase::goodTimedOut) + total(bs, Phase::goodTimedOut));
        long[] all = totals();
        if (all[2] > 0 && all[3] == 0 && !CONTROL) {
            StringBuilder where = new StringBuilder();
            for (Thread t : threads) {
                where.append("; ").append(t.getName()).append(t.isAlive() ? " still at " + java.util.Arrays.toString(t.getStackTrace()) : " ended");
            }
            throw new IllegalStateException(all[2] + " pathological requests and none stopped by its deadline" + where);
        }
    }

    /**
     * Samples the workers' stacks (every 4 ms, outside pathological requests) and tells how many of
     * the samples run a library class whose poll group is armed: good requests that pay armed checks
     * because their classes share a group with code a cancelled thread ran.
     */
    static String armedFramesOfGoodRequests(Thread[] threads, int samples) throws InterruptedException {
        Map<String, Integer> armedClasses = new HashMap<>();
        int good = 0;
        int armed = 0;
        for (int i = 0; i < samples; i++) {
            for (int w = 0; w < threads.length; w++) {
                if (workers[w].inPathological()) {
                    continue;
                }
                boolean any = false;
                for (StackTraceElement frame : threads[w].getStackTrace()) {
                    String c = frame.getClassName();
                    if (!c.startsWith("java.") && !c.startsWith("jdk.") && !c.startsWith("dev.usethread.")
                            && PollProbe.isGroupOfArmed(c)) {
                        armedClasses.merge(c, 1, Integer::sum);
                        any = true;
                    }
                }
                good++;
                armed += any ? 1 : 0;
            }
            Thread.sleep(4);
        }
        return "samples outside pathological requests " + good + ", with a frame of an armed group " + armed
                + "; classes: " + armedClasses;
    }

    /** The phase of median good-request throughput (the lower middle one of an even count). */
    static Phase median(List<Phase> phases) {
        List<Phase> sorted = new ArrayList<>(phases);
        sorted.sort(Comparator.comparingDouble(Phase::goodPerSecond));
        return sorted.get((sorted.size() - 1) / 2);
    }

    static long total(List<Phase> phases, ToLongFunction<Phase> field) {
        return phases.stream().mapToLong(field).sum();
    }

    record Phase(double goodPerSecond, double goodPerWallSecond, double deadlinesPerSecond,
            long asked, long stopped, long goodTimedOut) {
    }

    private static Phase phase(boolean withPathological, long millis) throws InterruptedException {
        long[] before = totals();
        long start = System.nanoTime();
        pathological = withPathological;
        Thread.sleep(millis);
        pathological = false;
        long[] after = totals();
        double seconds = (System.nanoTime() - start) / 1e9;
        long good = after[0] - before[0];
        double workerSeconds = WORKERS * seconds - (after[4] - before[4]) / 1e9;
        return new Phase(WORKERS * good / workerSeconds, good / seconds, (after[3] - before[3]) / seconds,
                after[2] - before[2], after[3] - before[3], after[1] - before[1]);
    }

    static int spin45() {
        long end = System.nanoTime() + 45_000_000L;
        int x = 0;
        while (System.nanoTime() - end < 0) {
            x = x * 31 + 7;
        }
        return x;
    }

    static long[] totals() {
        long[] t = new long[5];
        long now = System.nanoTime(); // pathological time counted up to now, so a phase gets exactly its own
        for (Worker w : workers) {
            t[0] += w.good;
            t[1] += w.goodTimedOut;
            t[2] += w.pathologicalAsked;
            t[3] += w.pathologicalStopped;
            t[4] += w.pathologicalNanos(now);
        }
        return t;
    }

    /** Serves requests until {@link #stop}; {@code bad} says whether request {@code i} is a pathological one. */
    static void serve(Worker worker, LongPredicate bad) {
        try {
            List<String> good = KINDS;
            Map<String, IntSupplier> requests = new HashMap<>();
            for (String r : LibraryWork.REQUESTS) {
                requests.put(r, LibraryWork.create(r));
            }
            for (String r : PATHOLOGICAL) {
                requests.put(r, LibraryWork.create(r));
            }
            int sink = 0;
            for (long i = 0; !stop; i++) {
                boolean isBad = bad.test(i);
                String kind = isBad
                        ? PATHOLOGICAL.get((int) (worker.pathologicalAsked % PATHOLOGICAL.size()))
                        : good.get((int) (i % good.size()));
                IntSupplier request = isBad && SPIN_CONTROL ? DeadlineService::spin45 : requests.get(kind);
                if (isBad) {
                    worker.pathologicalAsked++;
                    worker.pathologicalBegan(System.nanoTime());
                }
                try {
                    sink += Cancellation.withTimeout(timeout, request::getAsInt);
                    if (!isBad) {
                        worker.good++;
                    }
                } catch (DeadlineExceededException e) {
                    if (isBad) {
                        worker.pathologicalStopped++;
                    } else {
                        worker.goodTimedOut++;
                    }
                }
                if (isBad) {
                    worker.pathologicalEnded(System.nanoTime());
                }
            }
            BystanderWork.sink += sink;
        } catch (Throwable t) {
            worker.failure = t;
        }
    }
}
