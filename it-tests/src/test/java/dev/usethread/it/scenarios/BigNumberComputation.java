package dev.usethread.it.scenarios;

import java.math.BigInteger;

/** A long computation inside java.math (run with jdk=java.math): one huge number raised to a power. */
public final class BigNumberComputation {
    public static void main(String[] args) {
        // About a minute of Toom-Cook multiplication on this machine, far longer than the cancel takes.
        Harness.run("bignum", () -> BigInteger.valueOf(3).pow(300_000_000).bitLength(),
                e -> e.getClassName().startsWith("java.math."));
    }
}
