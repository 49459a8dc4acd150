package dev.usethread.bench;

import dev.usethread.Cancellation;
import dev.usethread.DeadlineExceededException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntSupplier;

/**
 * Frequent cancellation at the rates real services see: a bystander thread runs one workload
 * (an idle-suite kernel or a library request, {@link BystanderWork}) while a victim thread runs
 * {@link VictimWork} under {@link Cancellation#withTimeout}. In a phase "with cancels" each victim
 * body loops without end and its deadline stops it, {@code rate} times a second; in a phase
 * "without" the same victim runs bounded bodies under a deadline that never fires (same threads,
 * same CPU load, same timer traffic). Phases alternate, each kind's best is kept (load from other
 * processes only slows a phase down); before each phase without cancels the poll site is let go idle.
 * Meant to run with the agent, so that bystander and victim code are both agent-woven.
 *
 * <p>Arguments: {@code workload[,workload...] phaseMillis pairs label [rates, default 1,10,100,1000]}.
 * A phase at rate r lasts at least 2000/r ms, so that it sees two cancels. Prints markdown rows
 * {@code | label | workload | cancels/s asked | cancels/s seen | ops/s without | ops/s with | ratio | site changes |}.
 */
public final class CancelRates {
    /** 0: bounded victim bodies, no deadline fires; otherwise deadlines a second. */
    static volatile int rate;
    static volatile boolean stop;
    static volatile long deadlinesFired;
    static volatile long victimBodies;

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            throw new IllegalArgumentException("usage: CancelRates workload[,workload...] phaseMillis pairs label [rates]");
        }
        String[] workloads = args[0].split(",");
        long phaseMillis = Long.parseLong(args[1]);
        int pairs = Integer.parseInt(args[2]);
        String label = args[3];
        List<Integer> rates = new ArrayList<>();
        for (String r : (args.length > 4 ? args[4] : "1,10,100,1000").split(",")) {
            int v = Integer.parseInt(r.trim());
            if (v <= 0 || v > 10_000) {
                throw new IllegalArgumentException("cancel rate must be 1..10000 a second, not " + r);
            }
            rates.add(v);
        }
        Thread victim = new Thread(CancelRates::victim, "victim");
        victim.setDaemon(true);
        victim.start();
        for (String w : workloads) {
            IntSupplier work = BystanderWork.create(w);
            BystanderWork.run(work, Math.max(phaseMillis, 500)); // warm-up, no cancels
            for (int r : rates) {
                long phase = Math.max(phaseMillis, 2000L / r);
                double without = 0;
                double with = 0;
                long fired = 0;
                long firedNanos = 0;
                long changes0 = PollProbe.targetChanges();
                for (int pair = 0; pair < pairs; pair++) {
                    rate = 0;
                    PollProbe.awaitIdle(40_000, 1_000);
                    without = Math.max(without, BystanderWork.run(work, phase));
                    long f0 = deadlinesFired;
                    long t0 = System.nanoTime();
                    rate = r;
                    with = Math.max(with, BystanderWork.run(work, phase));
                    rate = 0;
                    firedNanos += System.nanoTime() - t0;
                    fired += deadlinesFired - f0;
                }
                long changes = PollProbe.targetChanges();
                System.out.printf(Locale.ROOT, "| %s | %s | %d | %.1f | %.4g | %.4g | %.3f | %s |%n", label, w, r,
                        fired / (firedNanos / 1e9), without, with, with / without,
                        changes < 0 ? "n/a" : Long.toString(changes - changes0));
            }
        }
        stop = true;
        if (victimBodies == 0) {
            throw new IllegalStateException("the victim never ran a body");
        }
    }

    private static void victim() {
        while (!stop) {
            int r = rate;
            try {
                if (r == 0) {
                    Cancellation.withTimeout(Duration.ofHours(1), () -> VictimWork.bounded(50_000));
                } else {
                    Cancellation.withTimeout(Duration.ofNanos(1_000_000_000L / r), VictimWork::endless);
                }
                victimBodies++;
            } catch (DeadlineExceededException expected) {
                deadlinesFired++;
                victimBodies++;
            }
        }
    }
}
