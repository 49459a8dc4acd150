package dev.usethread.it.scenarios;

import java.util.regex.Pattern;

/** Catastrophic backtracking inside java.util.regex (run with jdk=java.util.regex). */
public final class RegexBacktracking {
    public static void main(String[] args) {
        String input = "x".repeat(64); // no 'y': every way of splitting the x's is tried
        Harness.run("regex", () -> Pattern.compile("(x+x+)+y").matcher(input).matches(),
                Harness.inClass("java.util.regex."));
    }
}
