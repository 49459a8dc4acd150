package dev.usethread.it.scenarios;

/** Code that catches Throwable around its loop and keeps going: cancellation must be sticky. */
public final class CatchThrowable {
    static volatile long caught;

    static long stubborn() {
        long x = 0;
        while (true) {
            try {
                while (true) {
                    x += x ^ 17;
                }
            } catch (Throwable t) {
                caught++;
            }
        }
    }

    public static void main(String[] args) {
        Harness.run("catch-throwable", CatchThrowable::stubborn,
                Harness.inMethod(CatchThrowable.class.getName(), "stubborn"));
    }
}
