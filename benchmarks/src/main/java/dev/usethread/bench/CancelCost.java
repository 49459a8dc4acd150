package dev.usethread.bench;

import dev.usethread.Result;
import dev.usethread.ResultState;
import dev.usethread.UseThread;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.function.IntSupplier;

/**
 * What a cancel costs its caller, on a real code cache: a bystander thread keeps the library
 * requests and kernels ({@link BystanderWork}) compiled and running, as a service would; each trial
 * starts a job ({@link UseThread}, intrusive) in {@link VictimWork#endless()}, lets its loop get hot,
 * waits a calm period with nothing cancelled (and the poll site idle), then cancels it. Measured:
 * how long {@code cancel()} blocks the calling thread, and the time from {@code cancel()} to the
 * job's state CANCELLED (the first cancel after a calm period, of a CPU loop). Then the same with
 * the site kept armed by a second job cancelled just before (cancels in quick succession).
 *
 * <p>Arguments: {@code trials calmMillis label [bystander|none]}; {@code none} runs no bystander, so
 * that the job and the arming thread have the second core to themselves (what a cancel costs when
 * the machine is not oversubscribed). Run with the agent and
 * {@code -Dusethread.poll.quietMillis=5 -Dusethread.poll.maxQuietMillis=5} so that the site is idle
 * again within the calm period. Prints markdown rows:
 * {@code | label | case | n | cancel() blocks p50 | p99 | max | cancel to CANCELLED p50 | p99 | max |} (µs).
 */
public final class CancelCost {
    static volatile boolean stop;

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            throw new IllegalArgumentException("usage: CancelCost trials calmMillis label [bystander|none]");
        }
        int trials = Integer.parseInt(args[0]);
        long calmMillis = Long.parseLong(args[1]);
        String label = args[2];
        String others = args.length > 3 ? args[3] : "bystander";
        if (!others.equals("bystander") && !others.equals("none")) {
            throw new IllegalArgumentException("fourth argument: bystander or none, not " + others);
        }
        Thread bystander = new Thread(CancelCost::bystander, "bystander");
        bystander.setDaemon(true);
        if (others.equals("bystander")) {
            bystander.start();
        }
        Thread.sleep(Math.max(2_000, 10 * calmMillis)); // the bystander's code gets compiled
        for (String kind : List.of("first after calm", "site already armed")) {
            long[] blocked = new long[trials];
            long[] stopped = new long[trials];
            for (int t = -Math.min(10, trials); t < trials; t++) { // negative: warm-up trials
                UseThread<Long> armer = null;
                UseThread<Long> job = UseThread.options().name("cancel-cost").useThread(c -> VictimWork.endless());
                Thread.sleep(20); // the job's loop gets hot
                if (kind.startsWith("first")) {
                    Thread.sleep(calmMillis);
                    PollProbe.awaitIdle(40_000, 0);
                } else {
                    armer = UseThread.options().name("armer").useThread(c -> VictimWork.endless());
                    Thread.sleep(5);
                    armer.cancel();
                }
                long t0 = System.nanoTime();
                job.cancel();
                long t1 = System.nanoTime();
                Result<Long> r = job.await(Duration.ofSeconds(30));
                long t2 = System.nanoTime();
                if (r.state() != ResultState.CANCELLED) {
                    throw new IllegalStateException("job not cancelled: " + r);
                }
                job.close();
                if (armer != null) {
                    armer.await(Duration.ofSeconds(30));
                    armer.close();
                }
                if (t >= 0) {
                    blocked[t] = (t1 - t0) / 1000;
                    stopped[t] = (t2 - t0) / 1000;
                }
            }
            Arrays.sort(blocked);
            Arrays.sort(stopped);
            System.out.printf(Locale.ROOT, "| %s | %s | %d | %d | %d | %d | %d | %d | %d |%n", label, kind, trials,
                    pct(blocked, 0.5), pct(blocked, 0.99), blocked[trials - 1],
                    pct(stopped, 0.5), pct(stopped, 0.99), stopped[trials - 1]);
        }
        stop = true;
        if (bystander.isAlive()) {
            bystander.join(10_000);
        }
    }

    private static void bystander() {
        List<String> names = new java.util.ArrayList<>(BystanderWork.LIBRARIES);
        names.addAll(BystanderWork.KERNELS);
        IntSupplier[] work = names.stream().map(BystanderWork::create).toArray(IntSupplier[]::new);
        int s = 0;
        while (!stop) {
            for (IntSupplier w : work) {
                s += w.getAsInt();
            }
        }
        BystanderWork.sink = s;
    }

    private static long pct(long[] sorted, double p) {
        int i = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
}
