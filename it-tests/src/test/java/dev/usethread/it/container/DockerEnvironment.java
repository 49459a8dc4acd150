package dev.usethread.it.container;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.images.RemoteDockerImage;
import org.testcontainers.utility.DockerImageName;

/** Where the container tests get their Docker engine, images and agent jar from. */
final class DockerEnvironment {
    /** Per image name: "" once it is on the engine, else why it could not be had. */
    private static final Map<String, String> IMAGE_PROBLEMS = new ConcurrentHashMap<>();

    private DockerEnvironment() {
    }

    /**
     * {@link #image(int)}, made present on the engine (pulled if needed) once per test run: an image
     * that cannot be had fails every test that needs it at once, instead of each test waiting out
     * its own pull timeout.
     */
    static String availableImage(int jdk) {
        String image = image(jdk);
        String problem = IMAGE_PROBLEMS.computeIfAbsent(image, name -> {
            try {
                new RemoteDockerImage(DockerImageName.parse(name)).get();
                return "";
            } catch (RuntimeException e) {
                return e.toString();
            }
        });
        if (!problem.isEmpty()) {
            String reason = "JDK " + jdk + " image " + image + " is not on the Docker engine and could"
                    + " not be pulled (" + problem + "); offline, build it with it-tests/containers/build-images.sh"
                    + " and pass -Dusethread.image.jdk" + jdk + "=usethread/jdk" + jdk + ":trixie";
            if (Boolean.parseBoolean(setting("usethread.docker.required", "USETHREAD_DOCKER_REQUIRED", "false"))) {
                throw new IllegalStateException(reason);
            }
            // Like a missing engine: optional where Docker is not required, with the reason said.
            Assumptions.abort(reason);
        }
        return image;
    }

    private static volatile Boolean dockerAvailable;

    /**
     * Skips the calling test when no Docker engine answers (saying why, once, on standard error),
     * or fails it when Docker is required ({@code -Dusethread.docker.required=true} or
     * {@code USETHREAD_DOCKER_REQUIRED=true}, as CI sets it): there a missing engine is a broken
     * set-up, not a reason to skip.
     */
    static void requireOrSkipWithoutDocker() {
        boolean firstCheck = dockerAvailable == null;
        if (firstCheck) {
            dockerAvailable = DockerClientFactory.instance().isDockerAvailable();
        }
        if (dockerAvailable) {
            return;
        }
        String reason = "no Docker engine answers, so the container tests (JDK 21/25 images) cannot run;"
                + " start one, or see it-tests/containers/README.md";
        if (Boolean.parseBoolean(setting("usethread.docker.required", "USETHREAD_DOCKER_REQUIRED", "false"))) {
            fail(reason + " (Docker is required here: usethread.docker.required=true)");
        }
        if (firstCheck) {
            System.err.println("[containers] SKIPPED: " + reason);
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
