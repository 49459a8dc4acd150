package dev.usethread.it.scenarios;

import java.util.regex.Pattern;

/** Catastrophic backtracking inside java.util.regex (run with jdk=java.util.regex). */
public final class RegexBacktracking {
    public static void main(String[] args) {
        // No 'y': every way of splitting the x's is tried. The back-reference defeats the memoization
        // that newer JDKs apply to simpler patterns such as (x+x+)+y; 24 x's already take ~9 s.
        String input = "x".repeat(48);
        Harness.run("regex", () -> Pattern.compile("((x+)\\2?)+y").matcher(input).matches(),
                e -> e.getClassName().startsWith("java.util.regex.Pattern$") && e.getMethodName().equals("match"));
    }
}
