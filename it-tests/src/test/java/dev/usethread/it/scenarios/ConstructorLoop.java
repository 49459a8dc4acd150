package dev.usethread.it.scenarios;

/** A constructor that never returns. */
public final class ConstructorLoop {
    final long value;

    ConstructorLoop(long seed) {
        long x = seed;
        while (x != -1) {
            x = (x * 6364136223846793005L + 1442695040888963407L) | 1;
        }
        value = x;
    }

    public static void main(String[] args) {
        Harness.run("constructor-loop", () -> new ConstructorLoop(1).value,
                Harness.inMethod(ConstructorLoop.class.getName(), "<init>"));
    }
}
