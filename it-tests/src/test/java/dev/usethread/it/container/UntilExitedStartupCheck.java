package dev.usethread.it.container;

import com.github.dockerjava.api.DockerClient;
import org.testcontainers.containers.startupcheck.StartupCheckStrategy;
import org.testcontainers.utility.DockerStatus;

/**
 * "Started" means "ran to its end", whatever the exit code: the test reads the code and the log
 * itself, so a failing scenario shows its output instead of a bare launch exception.
 */
final class UntilExitedStartupCheck extends StartupCheckStrategy {
    @Override
    public StartupStatus checkStartupState(DockerClient dockerClient, String containerId) {
        return DockerStatus.isContainerStopped(getCurrentState(dockerClient, containerId))
                ? StartupStatus.SUCCESSFUL
                : StartupStatus.NOT_YET_KNOWN;
    }
}
