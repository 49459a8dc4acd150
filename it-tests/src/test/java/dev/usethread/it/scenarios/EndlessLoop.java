package dev.usethread.it.scenarios;

/** An endless loop in application code that never checks anything. */
public final class EndlessLoop {
    static long spin() {
        long x = 0;
        while (true) {
            x += x ^ 31;
        }
    }

    public static void main(String[] args) {
        Harness.run("endless-loop", EndlessLoop::spin, Harness.inMethod(EndlessLoop.class.getName(), "spin"));
    }
}
