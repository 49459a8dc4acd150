package dev.usethread.it.container;

import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What one container run of {@link ContainerScenario} printed and returned. */
record ScenarioRun(int jdk, String image, long exitCode, String log) {
    private static final Pattern CANCELLED = Pattern.compile("(?m)^CANCELLED after ([0-9]+\\.[0-9]+) ms$");

    /** Milliseconds from {@code cancel()} to CANCELLED, as measured inside the container. */
    OptionalDouble cancelToCancelledMillis() {
        Matcher matcher = CANCELLED.matcher(log);
        return matcher.find() ? OptionalDouble.of(Double.parseDouble(matcher.group(1))) : OptionalDouble.empty();
    }
}
