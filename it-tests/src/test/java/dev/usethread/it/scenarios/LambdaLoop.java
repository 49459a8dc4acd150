package dev.usethread.it.scenarios;

import java.util.stream.IntStream;

/** A loop inside a lambda body, called back from (unwoven) JDK stream code. */
public final class LambdaLoop {
    public static void main(String[] args) {
        Harness.run("lambda-loop", () -> IntStream.of(1).map(i -> {
            int x = i;
            for (;;) {
                x = x * 31 + 7;
            }
        }).sum(), Harness.inClass("java.util.stream."));
    }
}
