package dev.usethread.junit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usethread.junit.fixtures.RunWithAgent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** With the agent, @StopAfter stops a loop that never checks anything. Runs in a fresh JVM. */
class StopAfterWithAgentIT {

    @Test
    void aLoopThatNeverChecksIsStoppedWithTheAgent() throws Exception {
        Path agent = Paths.get(System.getProperty("usethread.agent.jar", "../agent/target/usethread-agent.jar"));
        assertThat(agent).exists();
        Path out = Files.createTempFile("stopafter", ".txt");
        Process p = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-javaagent:" + agent.toAbsolutePath(), "-cp", System.getProperty("java.class.path"),
                RunWithAgent.class.getName()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the child JVM ends").isTrue();
            String text = Files.readString(out, StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as(text).isZero();
            assertThat(text).contains("intrusive=true", "failed=1 succeeded=0",
                    "message=test stopped after its limit @StopAfter(\"300ms\") at "
                            + "dev.usethread.junit.fixtures.PureLoopCases.spinsForever",
                    "threads alive: 0");
            assertThat(text).doesNotContain("only cooperative");
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(out);
        }
    }
}
