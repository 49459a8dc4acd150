package dev.usethread.it.container;

import com.google.common.collect.Iterators;
import dev.usethread.Cancellation;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * Runs {@link ContainerScenario} once in a JDK image and returns its exit code and log. The
 * container has no network; the program's classes, its libraries and the agent jar are bind-mounted
 * read-only, so that a read-only root filesystem and a non-root user change nothing else.
 */
final class ScenarioContainer {
    static final String AGENT_IN_CONTAINER = "/usethread/usethread-agent.jar";
    private static final Duration RUN_LIMIT = Duration.ofMinutes(3);
    private static final long MEMORY_LIMIT_BYTES = 256L * 1024 * 1024;

    /** How the container is set up: which JVM entry, file system, user and limits. */
    record Settings(boolean agent, boolean readOnlyRoot, String runAs, boolean limitCpuAndMemory) {
        static Settings withAgent() {
            return new Settings(true, false, null, false);
        }

        static Settings withoutAgent() {
            return new Settings(false, false, null, false);
        }

        Settings readOnlyRootFilesystem() {
            return new Settings(agent, true, runAs, limitCpuAndMemory);
        }

        Settings asUser(String uidGid) {
            return new Settings(agent, readOnlyRoot, uidGid, limitCpuAndMemory);
        }

        Settings oneCpuAndMemoryLimit() {
            return new Settings(agent, readOnlyRoot, runAs, true);
        }
    }

    private ScenarioContainer() {
    }

    static ScenarioRun run(int jdk, String loop, String threadKind, Settings settings) {
        String image = DockerEnvironment.availableImage(jdk);
        List<String> classpath = new ArrayList<>();
        try (GenericContainer<?> container = new GenericContainer<>(DockerImageName.parse(image))) {
            container.withNetworkMode("none")
                    .withStartupCheckStrategy(new UntilExitedStartupCheck().withTimeout(RUN_LIMIT));
            int n = 0;
            for (Path entry : List.of(codeSource(ContainerScenario.class), codeSource(Cancellation.class),
                    codeSource(Iterators.class))) {
                String inContainer = "/usethread/cp/" + (n++) + "-" + entry.getFileName();
                container.withFileSystemBind(entry.toString(), inContainer, BindMode.READ_ONLY);
                classpath.add(inContainer);
            }
            if (settings.agent()) {
                Path agentJar = DockerEnvironment.agentJar();
                if (agentJar == null) {
                    throw new IllegalStateException("agent jar not built: " + DockerEnvironment.agentJarSetting());
                }
                container.withFileSystemBind(agentJar.toString(), AGENT_IN_CONTAINER, BindMode.READ_ONLY);
                // As users deploy it: the JVM picks the agent up from the environment.
                container.withEnv("JAVA_TOOL_OPTIONS", "-javaagent:" + AGENT_IN_CONTAINER);
            }
            container.withCreateContainerCmdModifier(cmd -> {
                if (settings.runAs() != null) {
                    cmd.withUser(settings.runAs());
                }
                if (settings.readOnlyRoot()) {
                    cmd.getHostConfig().withReadonlyRootfs(true);
                }
                if (settings.limitCpuAndMemory()) {
                    // --cpus=1 --memory=256m; pinned to one core too, so the job's loop competes
                    // with cancel() for the only CPU the container has.
                    cmd.getHostConfig()
                            .withNanoCPUs(1_000_000_000L)
                            .withCpusetCpus("0")
                            .withMemory(MEMORY_LIMIT_BYTES)
                            .withMemorySwap(MEMORY_LIMIT_BYTES);
                }
            });
            container.withCommand("java", "-cp", String.join(":", classpath), ContainerScenario.class.getName(),
                    loop, threadKind);
            container.start();
            Long exitCode = container.getCurrentContainerInfo().getState().getExitCodeLong();
            String log = container.getLogs();
            System.out.printf("--- JDK %d (%s) %s/%s %s, exit %s:%n%s", jdk, image, loop, threadKind, settings, exitCode, log);
            return new ScenarioRun(jdk, image, exitCode == null ? -1 : exitCode, log);
        }
    }

    private static Path codeSource(Class<?> type) {
        try {
            return Paths.get(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate the classes of " + type, e);
        }
    }
}
