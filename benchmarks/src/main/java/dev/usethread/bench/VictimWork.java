package dev.usethread.bench;

/**
 * The cancelled thread's work: code of its own, shared with no bystander (the realistic case: the
 * job a deadline stops runs other code than the threads around it). Plain code, woven by the agent.
 */
public final class VictimWork {
    static volatile long sink;

    private VictimWork() {
    }

    /** About {@code rounds} rounds of a hash-mixing loop over a small table; returns normally. */
    public static long bounded(long rounds) {
        long[] table = new long[64];
        long h = 0x9E3779B97F4A7C15L;
        for (long i = 0; i < rounds; i++) {
            h = mix(h, table, (int) (i & 63));
        }
        sink = h;
        return h;
    }

    /** The same loop without end: only a cancellation (a woven poll) stops it. */
    public static long endless() {
        long[] table = new long[64];
        long h = 0x9E3779B97F4A7C15L;
        for (long i = 0; ; i++) {
            h = mix(h, table, (int) (i & 63));
            if (h == 42) { // never: keeps the loop's result alive
                sink = h;
            }
        }
    }

    private static long mix(long h, long[] table, int slot) {
        long v = table[slot] + h;
        v ^= v >>> 29;
        v *= 0xBF58476D1CE4E5B9L;
        table[slot] = v;
        return h + (v ^ (v >>> 32));
    }
}
