package dev.usethread.it.container;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;

/** Where the container tests get their Docker engine, images and agent jar from. */
final class DockerEnvironment {
    private DockerEnvironment() {
    }

    /**
     * Skips the calling test class when no Docker engine answers, or fails it when Docker is
     * required ({@code -Dusethread.docker.required=true} or {@code USETHREAD_DOCKER_REQUIRED=true},
     * as CI sets it): there a missing engine is a broken set-up, not a reason to skip.
     */
    static void requireOrSkipWithoutDocker() {
        if (DockerClientFactory.instance().isDockerAvailable()) {
            return;
        }
        String reason = "no Docker engine answers, so the container tests (JDK 21/25 images) cannot run;"
                + " start one, or see it-tests/containers/README.md";
        if (Boolean.parseBoolean(setting("usethread.docker.required", "USETHREAD_DOCKER_REQUIRED", "false"))) {
            fail(reason + " (Docker is required here: usethread.docker.required=true)");
        }
        Assumptions.abort(reason);
    }

    /**
     * The image for a JDK feature release: {@code -Dusethread.image.jdkNN}, else the environment
     * variable {@code USETHREAD_IMAGE_JDKNN}, else the public {@code eclipse-temurin:NN-jre}.
     */
    static String image(int jdk) {
        return setting("usethread.image.jdk" + jdk, "USETHREAD_IMAGE_JDK" + jdk, "eclipse-temurin:" + jdk + "-jre");
    }

    /** The built agent jar, or null when it has not been built. */
    static Path agentJar() {
        String configured = setting("usethread.agent.jar", "USETHREAD_AGENT_JAR", "../agent/target/usethread-agent.jar");
        Path jar = Paths.get(configured).toAbsolutePath().normalize();
        return Files.isRegularFile(jar) ? jar : null;
    }

    static String agentJarSetting() {
        return setting("usethread.agent.jar", "USETHREAD_AGENT_JAR", "../agent/target/usethread-agent.jar");
    }

    private static String setting(String property, String environmentVariable, String fallback) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            value = System.getenv(environmentVariable);
        }
        return value == null || value.isBlank() ? fallback : value.trim();
    }
}
