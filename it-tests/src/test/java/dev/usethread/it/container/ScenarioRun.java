package dev.usethread.it.container;

import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What one container run of {@link ContainerScenario} printed and returned. */
record ScenarioRun(int jdk, String image, long exitCode, String log) {
    /**
     * Milliseconds from {@code cancel()} to CANCELLED, as measured inside the container, for the
     * {@code first} or {@code second} job of the run.
     */
    OptionalDouble cancelToCancelledMillis(String round) {
        Matcher matcher = Pattern.compile("(?m)^CANCELLED after ([0-9]+\\.[0-9]+) ms \\(" + round + " cancellation\\)$")
                .matcher(log);
        return matcher.find() ? OptionalDouble.of(Double.parseDouble(matcher.group(1))) : OptionalDouble.empty();
    }
}
