package dev.usethread.bench;

import dev.usethread.CancelledSignal;
import dev.usethread.internal.CancelScope;
import dev.usethread.internal.Poll;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntSupplier;

/**
 * Frequent cancellation: a victim thread runs woven CPU work in a fresh intrusive scope, which a
 * canceller thread cancels 1,000 times a second; a bystander thread runs a woven kernel. The
 * bystander's throughput with cancels is compared with its throughput in a phase where the same
 * threads run and the canceller ticks at the same rate without cancelling (same CPU load).
 *
 * <p>Prints a markdown row: {@code | label | kernel | cancels/s | baseline ops/s | with cancels |
 * ratio | just after (site still armed) | site flips |}: best of three pairs of phases. One kernel
 * per JVM. Run it with {@code -Dusethread.poll.maxQuietMillis=1000} so that each baseline phase
 * starts within a second of the last cancel.
 */
public final class FrequentCancel {
    static volatile boolean cancelling;
    static volatile boolean stop;
    static volatile long cancels;
    static volatile int sink;
    static final int PAIRS = 3;

    public static void main(String[] args) throws Exception {
        String kernel = args.length > 0 ? args[0] : "intSum";
        long phaseMillis = args.length > 1 ? Long.parseLong(args[1]) : 3000;
        String label = args.length > 2 ? args[2] : "";
        int rate = args.length > 3 ? Integer.parseInt(args[3]) : 1000;

        IntSupplier work = kernel(kernel);
        AtomicReference<CancelScope> current = new AtomicReference<>();
        Thread victim = new Thread(() -> victim(current), "victim");
        victim.setDaemon(true);
        Thread canceller = new Thread(() -> canceller(current, rate), "canceller");
        canceller.setDaemon(true);
        victim.start();
        canceller.start();

        run(work, phaseMillis); // warm-up, no cancels
        // Pairs of phases, best of each kind: other load on the machine only ever slows a phase down.
        double baseline = 0;
        double withCancels = 0;
        double after = 0;
        long cancelCount = 0;
        long cancelNanos = 0;
        for (int pair = 0; pair < PAIRS; pair++) {
            while (Poll.isArmed()) { // the baseline runs with the poll site idle, as without cancels
                Thread.sleep(10);
            }
            baseline = Math.max(baseline, run(work, phaseMillis));
            cancelling = true;
            long c0 = cancels;
            long t0 = System.nanoTime();
            withCancels = Math.max(withCancels, run(work, phaseMillis));
            cancelNanos += System.nanoTime() - t0;
            cancelCount += cancels - c0;
            cancelling = false;
            after = Math.max(after, run(work, phaseMillis / 4)); // site still armed: hysteresis
        }
        double cancelRate = cancelCount / (cancelNanos / 1e9);
        stop = true;
        System.out.printf(Locale.ROOT, "| %s | %s | %.0f | %.3g | %.3g | %.3f | %.3f | %d |%n", label, kernel,
                cancelRate, baseline, withCancels, withCancels / baseline, after / baseline, Poll.targetChanges());
    }

    private static double run(IntSupplier work, long millis) {
        long end = System.nanoTime() + millis * 1_000_000;
        long ops = 0;
        long start = System.nanoTime();
        int s = 0;
        while (System.nanoTime() < end) {
            for (int i = 0; i < 16; i++) {
                s += work.getAsInt();
            }
            ops += 16;
        }
        sink = s;
        return ops / ((System.nanoTime() - start) / 1e9);
    }

    private static void victim(AtomicReference<CancelScope> current) {
        while (!stop) {
            CancelScope scope = new CancelScope("frequently cancelled job", true);
            scope.enter();
            current.set(scope);
            try {
                Workloads.cpu(10_000);
            } catch (CancelledSignal expected) {
                // next job
            } finally {
                current.set(null);
                scope.exit();
            }
        }
    }

    private static void canceller(AtomicReference<CancelScope> current, int rate) {
        long period = 1_000_000_000L / rate;
        long next = System.nanoTime();
        while (!stop) {
            next += period;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            CancelScope scope = current.get();
            if (cancelling && scope != null && scope.cancel()) {
                cancels++;
            }
        }
    }

    static IntSupplier kernel(String name) {
        Random r = new Random(1);
        int[] ints = r.ints(4096).toArray();
        int[] a = r.ints(1024).toArray();
        int[] b = r.ints(1024).toArray();
        int[] c = new int[1024];
        HandWovenKernels.WovenNode list = null;
        for (int i = 0; i < 4096; i++) {
            HandWovenKernels.WovenNode n = new HandWovenKernels.WovenNode(i);
            n.next = list;
            list = n;
        }
        HandWovenKernels.WovenNode head = list;
        return switch (name) {
            case "intSum" -> () -> HandWovenKernels.intSum(ints);
            case "longLoop" -> () -> (int) HandWovenKernels.longLoop(4096);
            case "vectorAdd" -> () -> {
                HandWovenKernels.vectorAdd(a, b, c);
                return c[7];
            };
            case "recursiveFib" -> () -> HandWovenKernels.fib(20);
            case "listWalk" -> () -> (int) HandWovenKernels.listWalk(head);
            default -> throw new IllegalArgumentException("unknown kernel " + name);
        };
    }
}
