package dev.usethread.it.scenarios;

/**
 * Loops inside {@code synchronized} and {@code try/finally}: javac's catch-all handlers cover their
 * own code there, and a poll inside them would catch its own signal forever. The job must still
 * stop, run its finally block's JDK-only code, and release the monitor (the retry takes it again).
 */
public final class SynchronizedFinally {
    private static final Object LOCK = new Object();
    static volatile int finallyRan;

    static long spin() {
        synchronized (LOCK) {
            long x = 0;
            try {
                while (true) {
                    try {
                        x += x ^ 5;
                    } finally {
                        x++;
                    }
                }
            } finally {
                finallyRan++;
            }
        }
    }

    public static void main(String[] args) {
        Harness.run("synchronized-finally", SynchronizedFinally::spin,
                Harness.inMethod(SynchronizedFinally.class.getName(), "spin"));
    }
}
