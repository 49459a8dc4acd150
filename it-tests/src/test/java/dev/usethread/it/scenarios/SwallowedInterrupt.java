package dev.usethread.it.scenarios;

/** Blocking calls whose InterruptedException is swallowed and retried: {@code sleep} or {@code wait}. */
public final class SwallowedInterrupt {
    private static final Object LOCK = new Object();

    static Object sleeper() {
        while (true) {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException swallowed) {
                // keep sleeping
            }
        }
    }

    static Object waiter() {
        synchronized (LOCK) {
            while (true) {
                try {
                    LOCK.wait();
                } catch (InterruptedException swallowed) {
                    // keep waiting
                }
            }
        }
    }

    public static void main(String[] args) {
        if (args[0].equals("sleep")) {
            Harness.run("swallowed-sleep", SwallowedInterrupt::sleeper,
                    Harness.inMethod(SwallowedInterrupt.class.getName(), "sleeper"));
        } else {
            Harness.run("swallowed-wait", SwallowedInterrupt::waiter,
                    e -> e.getClassName().equals("java.lang.Object") && e.getMethodName().startsWith("wait"));
        }
    }
}
