package dev.usethread.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usethread.UseThread;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Runs the demo as demo/run.sh does (a fresh JVM with the built agent) and checks what it prints. */
class DemoTest {

    @Test
    void theDemoRunsWithTheAgentAndEndsByItself() throws Exception {
        Path agent = Paths.get(System.getProperty("usethread.agent.jar", "../agent/target/usethread-agent.jar"));
        assertThat(agent).as("the agent jar is built before the demo").exists();
        String classpath = location(Demo.class) + File.pathSeparator + location(UseThread.class);
        Path out = Files.createTempFile("usethread-demo", ".txt");
        Process p = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-javaagent:" + agent.toAbsolutePath() + "=jdk=java.util.regex", "-cp", classpath,
                Demo.class.getName()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            assertThat(p.waitFor(180, TimeUnit.SECONDS)).as("the demo ends by itself").isTrue();
            String text = Files.readString(out, StandardCharsets.UTF_8);
            System.out.println(text);
            assertThat(p.exitValue()).as(text).isZero();
            assertThat(text).contains("agent installed: true", "partial value:", "FINISHED", "CANCELLED",
                    "WAITING   run 2", "setDependencies(\"jvm\") returns STARTING at once",
                    "retried run: FINISHED", "demo finished");
            assertThat(text).containsPattern("regex job CANCELLED [0-9.]+ ms after cancel\\(\\)");
            assertThat(text).containsPattern("retried and cancelled again: CANCELLED [0-9.]+ ms");
            assertThat(text).containsPattern("TimeoutException after [0-9.]+ ms: deadline of PT0.25S passed;"
                    + " the body was stopped at (java.base/)?java.util.regex.Pattern");
            assertThat(List.of(text.split("\n"))).noneMatch(line -> line.contains("Exception in thread"));
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(out);
        }
    }

    private static String location(Class<?> c) throws Exception {
        return Paths.get(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }
}
