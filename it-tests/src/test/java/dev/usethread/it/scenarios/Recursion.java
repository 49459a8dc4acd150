package dev.usethread.it.scenarios;

/** Exponential recursion without a single loop: only method-entry polls can stop it. */
public final class Recursion {
    static long fib(int n) {
        return n < 2 ? n : fib(n - 1) + fib(n - 2);
    }

    public static void main(String[] args) {
        Harness.run("recursion", () -> fib(90), Harness.inMethod(Recursion.class.getName(), "fib"));
    }
}
