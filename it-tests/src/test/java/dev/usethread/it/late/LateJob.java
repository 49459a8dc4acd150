package dev.usethread.it.late;

/** Loaded and used before the agent is attached; spins only after. Touches no usethread class. */
public final class LateJob {
    public static long spin(long limit) {
        long x = 0;
        while (x != limit) {
            x = x * 5 + 3 & 0x7fffffffffffffffL;
        }
        return x;
    }
}
