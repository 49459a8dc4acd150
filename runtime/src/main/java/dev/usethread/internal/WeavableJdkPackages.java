package dev.usethread.internal;

import java.util.List;

/**
 * The JDK packages the agent's {@code jdk=} option may weave: the one list that the stuck-thread
 * diagnosis ({@link StuckThreads}) suggests from. A JDK package not listed here is JDK code that
 * usethread cannot stop inside. Keep it in step with the agent's {@code jdk=} allow-list.
 */
public final class WeavableJdkPackages {
    /** Packages (with their subpackages) whose loops are safe to weave and tested with the agent. */
    public static final List<String> PACKAGES = List.of("java.util.regex", "java.math");

    private WeavableJdkPackages() {
    }

    /** The listed package that {@code packageName} is or lies in, or null. */
    public static String allowing(String packageName) {
        for (String p : PACKAGES) {
            if (packageName.equals(p) || packageName.startsWith(p + ".")) {
                return p;
            }
        }
        return null;
    }
}
