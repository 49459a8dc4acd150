package dev.usethread.it.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usethread.it.container.ScenarioContainer.Settings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * usethread inside containers, on JDKs this machine may not run directly: each test starts
 * {@link ContainerScenario} in a JDK 21 and a JDK 25 image (network mode {@code none}), cancels a
 * job there and checks that it reached CANCELLED. The agent enters through
 * {@code JAVA_TOOL_OPTIONS=-javaagent:...}, as users deploy it.
 *
 * <p>Skipped without a Docker engine unless {@code usethread.docker.required=true}. The times from
 * {@code cancel()} to CANCELLED are printed and appended to
 * {@code target/container-cancel-times.tsv}; they are only bounded generously here.
 */
@Tag("containers")
class ContainerCancellationTest {
    /** Liveness bound only: the time is reported, not judged. */
    private static final double CANCEL_BOUND_MS = 20_000;
    private static final String NON_ROOT = "65534:65534";

    private static final Path TIMES = Paths.get("target", "container-cancel-times.tsv");

    @BeforeAll
    static void forgetEarlierTimes() throws IOException {
        Files.deleteIfExists(TIMES);
    }

    @BeforeEach
    void docker() {
        DockerEnvironment.requireOrSkipWithoutDocker();
    }

    @ParameterizedTest(name = "JDK {0}")
    @ValueSource(ints = {21, 25})
    void cooperativeCheckpointLoopWithoutAgent(int jdk) {
        ScenarioRun run = ScenarioContainer.run(jdk, "checkpoint", "platform", Settings.withoutAgent());
        assertCancelled(run, "checkpoint loop, no agent");
        assertThat(run.log()).contains("intrusive=false").doesNotContain("JAVA_TOOL_OPTIONS");
    }

    @ParameterizedTest(name = "JDK {0}")
    @ValueSource(ints = {21, 25})
    void endlessLoopInApplicationCode(int jdk) {
        ScenarioRun run = ScenarioContainer.run(jdk, "app", "platform", agent());
        assertCancelledByAgent(run, "endless loop in application code");
    }

    @ParameterizedTest(name = "JDK {0}")
    @ValueSource(ints = {21, 25})
    void endlessLoopInThirdPartyLibrary(int jdk) {
        ScenarioRun run = ScenarioContainer.run(jdk, "library", "platform", agent());
        assertCancelledByAgent(run, "endless loop in a third-party library (Guava)");
    }

    @ParameterizedTest(name = "JDK {0}")
    @ValueSource(ints = {21, 25})
    void endlessLoopOnVirtualThread(int jdk) {
        ScenarioRun run = ScenarioContainer.run(jdk, "app", "virtual", agent());
        assertCancelledByAgent(run, "endless loop on a virtual thread");
    }

    @ParameterizedTest(name = "JDK {0}")
    @ValueSource(ints = {21, 25})
    void oneCpuAndMemoryLimit(int jdk) {
        ScenarioRun run = ScenarioContainer.run(jdk, "app", "platform", agent().oneCpuAndMemoryLimit());
        assertCancelledByAgent(run, "--cpus=1 (one core) --memory=256m, loop hogs the CPU");
        assertThat(run.log()).as("the JVM sees the CPU limit").contains(" cpus=1 ");
    }

    @ParameterizedTest(name = "JDK {0}")
    @ValueSource(ints = {21, 25})
    void readOnlyRootFilesystem(int jdk) {
        ScenarioRun run = ScenarioContainer.run(jdk, "app", "platform", agent().readOnlyRootFilesystem());
        assertCancelledByAgent(run, "read-only root filesystem");
    }

    @ParameterizedTest(name = "JDK {0}")
    @ValueSource(ints = {21, 25})
    void nonRootUser(int jdk) {
        ScenarioRun run = ScenarioContainer.run(jdk, "app", "platform", agent().asUser(NON_ROOT));
        assertCancelledByAgent(run, "non-root user " + NON_ROOT);
        assertThat(run.log()).as("runs as a non-root user").doesNotContain(" user=root ");
    }

    /** The agent's settings, or a skip that says why when the agent jar has not been built. */
    private static Settings agent() {
        Assumptions.assumeTrue(DockerEnvironment.agentJar() != null,
                "agent jar not built (" + DockerEnvironment.agentJarSetting() + "): run mvn package on the agent module first");
        return Settings.withAgent();
    }

    private static void assertCancelledByAgent(ScenarioRun run, String scenario) {
        assertCancelled(run, scenario);
        assertThat(run.log())
                .as("the agent entered through JAVA_TOOL_OPTIONS and is active")
                .contains("Picked up JAVA_TOOL_OPTIONS: -javaagent:" + ScenarioContainer.AGENT_IN_CONTAINER)
                .contains("intrusive=true");
    }

    private static void assertCancelled(ScenarioRun run, String scenario) {
        assertThat(run.exitCode()).as("exit code of the scenario; its log:%n%s", run.log()).isZero();
        OptionalDouble first = run.cancelToCancelledMillis("first");
        OptionalDouble second = run.cancelToCancelledMillis("second");
        assertThat(first).as("first CANCELLED line in the log:%n%s", run.log()).isPresent();
        assertThat(second).as("second CANCELLED line in the log:%n%s", run.log()).isPresent();
        assertThat(first.getAsDouble()).as("ms from the first cancel() to CANCELLED").isBetween(0.0, CANCEL_BOUND_MS);
        assertThat(second.getAsDouble()).as("ms from the second cancel() to CANCELLED").isBetween(0.0, CANCEL_BOUND_MS);
        report(run, scenario, first.getAsDouble(), second.getAsDouble());
    }

    private static void report(ScenarioRun run, String scenario, double first, double second) {
        String line = String.format(Locale.ROOT, "JDK %d\t%s\tfirst %.3f ms\tsecond %.3f ms\t%s%n", run.jdk(), scenario,
                first, second, run.image());
        System.out.print("cancel() -> CANCELLED: " + line);
        try {
            Files.createDirectories(TIMES.getParent());
            Files.writeString(TIMES, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.out.println("could not record the time: " + e);
        }
    }
}
