package dev.usethread.internal;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/** A CPU-bound task for tests: polls as woven code does until a poll throws (or a minute passes). */
public final class PollingSpin {
    private PollingSpin() {
    }

    /**
     * Counts {@code started} down, then polls until stopped; records in {@code stoppedBy} what
     * stopped it and rethrows it.
     *
     * @return "ran out of time" if nothing stopped it within a minute
     */
    public static String spin(CountDownLatch started, AtomicReference<Throwable> stoppedBy) {
        started.countDown();
        long giveUp = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        try {
            while (System.nanoTime() < giveUp) {
                Poll.poll();
            }
            return "ran out of time";
        } catch (Throwable t) {
            stoppedBy.set(t);
            throw t;
        }
    }
}
