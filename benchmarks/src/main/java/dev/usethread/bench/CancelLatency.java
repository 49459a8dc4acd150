package dev.usethread.bench;

import dev.usethread.CancelledSignal;
import dev.usethread.internal.CancelScope;
import dev.usethread.internal.Poll;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Cancel latency: {@code cancel()} to the job's thread leaving woven code (its
 * {@code CancelledSignal} caught at the top of the job), for a hot CPU loop and for threads in
 * {@code sleep}/{@code wait}/{@code park}, on platform and virtual threads.
 *
 * <p>"idle site": each cancel finds the poll site idle (folded), so it pays the deoptimization; run
 * with a short {@code -Dusethread.poll.quietMillis}. "armed site": another cancelled scope keeps
 * the site armed, as under frequent cancellation.
 *
 * <p>Prints markdown rows: {@code | site | thread | workload | n | p50 µs | p99 µs | max µs |}.
 */
public final class CancelLatency {
    private static final int WARM_TRIALS = 10;

    public static void main(String[] args) throws Exception {
        int trials = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        int inner = args.length > 1 ? Integer.parseInt(args[1]) : 10_000_000;
        String label = args.length > 2 ? args[2] : "";
        boolean alwaysArmed = Poll.isArmed(); // -Dusethread.poll=flag: there is no idle site
        for (String site : alwaysArmed ? List.of("armed") : List.of("idle", "armed")) {
            Thread keeper = site.equals("armed") ? keepArmed() : null;
            for (boolean virtual : new boolean[] {false, true}) {
                if (virtual && !Threads.virtualThreadsAvailable()) {
                    System.out.printf("| %s | %s site | virtual | - | 0 | n/a (JDK %s has no virtual threads) | | |%n",
                            label, site, Runtime.version().feature());
                    continue;
                }
                for (String workload : List.of("cpu", "sleep", "wait", "park")) {
                    long[] us = measure(virtual, workload, trials, inner, site.equals("idle"));
                    Arrays.sort(us);
                    System.out.printf(Locale.ROOT, "| %s | %s site | %s | %s | %d | %.0f | %.0f | %.0f |%n",
                            label, site, virtual ? "virtual" : "platform", workload, us.length,
                            pct(us, 0.50), pct(us, 0.99), (double) us[us.length - 1]);
                }
            }
            if (keeper != null) {
                keeper.interrupt();
                keeper.join();
            }
        }
    }

    private static long[] measure(boolean virtual, String workload, int trials, int inner, boolean idle)
            throws Exception {
        List<Long> out = new ArrayList<>();
        Object monitor = new Object();
        for (int t = 0; t < trials + WARM_TRIALS; t++) {
            CancelScope scope = new CancelScope("latency trial", true);
            AtomicLong left = new AtomicLong();
            CountDownLatch ready = new CountDownLatch(1);
            Runnable job = () -> {
                scope.enter();
                try {
                    ready.countDown();
                    switch (workload) {
                        case "cpu" -> Workloads.cpu(inner);
                        case "sleep" -> Workloads.sleep();
                        case "wait" -> Workloads.await(monitor);
                        default -> Workloads.park();
                    }
                } catch (CancelledSignal expected) {
                    left.set(System.nanoTime());
                } finally {
                    scope.exit();
                }
            };
            Thread thread = virtual ? Threads.newVirtual(job) : new Thread(job);
            thread.start();
            ready.await();
            Thread.sleep(workload.equals("cpu") ? 30 : 3); // let the loop get hot (or block)
            if (idle) {
                while (Poll.isArmed()) {
                    Thread.sleep(1);
                }
            }
            long start = System.nanoTime();
            scope.cancel();
            thread.join();
            if (t >= WARM_TRIALS) {
                out.add((left.get() - start) / 1000);
            }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /** A thread parked in a shielded, cancelled intrusive scope: the poll site stays armed. */
    private static Thread keepArmed() throws InterruptedException {
        CountDownLatch in = new CountDownLatch(1);
        Thread keeper = new Thread(() -> {
            CancelScope scope = new CancelScope("keeper", true);
            CancelScope.Shield shield = CancelScope.shield();
            scope.enter();
            scope.cancel();
            in.countDown();
            while (!Thread.currentThread().isInterrupted()) {
                java.util.concurrent.locks.LockSupport.park();
            }
            scope.exit();
            shield.close();
        });
        keeper.setDaemon(true);
        keeper.start();
        in.await();
        return keeper;
    }

    private static double pct(long[] sorted, double p) {
        int i = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
}
