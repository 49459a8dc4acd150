package dev.usethread.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Installing the agent: late attach, virtual threads, options, bad input, java -jar. */
class AgentStartupTest {
    private static final String PKG = "dev.usethread.it.scenarios.";

    static Stream<Arguments> jdks() {
        return ChildJvm.jdks().stream().map(j -> Arguments.of(ChildJvm.feature(j), j));
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void attachesFromCodeAfterStartUp(int feature, String jdk) throws Exception {
        // No -javaagent: the application has the agent jar on its class path and installs it.
        List<String> jvm = List.of("-cp", ChildJvm.classpath() + java.io.File.pathSeparator + ChildJvm.agentJar());
        ChildJvm.Outcome out = ChildJvm.run(jdk, jvm, PKG + "LateAttach");
        assertThat(out.get("BEFORE")).as(out.toString()).isEqualTo("3");
        assertThat(out.get("INSTALLED")).as(out.toString()).isEqualTo("true");
        // LateJob was loaded and run before the attach: its retransformed code is what polls.
        ScenarioTest.assertStandardRun(out, "dev\\.usethread\\.it\\.late\\.LateJob\\.spin");
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void installFromCodeWithABadOptionThrowsAndLeavesTheApplicationAlone(int feature, String jdk) throws Exception {
        List<String> jvm = List.of("-cp", ChildJvm.classpath() + java.io.File.pathSeparator + ChildJvm.agentJar());
        ChildJvm.Outcome out = ChildJvm.run(jdk, jvm, PKG + "BadInstall", "include=com/acme");
        assertThat(out.exitCode).as(out.toString()).isZero();
        assertThat(out.get("CAUGHT")).as(out.toString())
                .isEqualTo("usethread agent: malformed pattern in option 'include=com/acme': use dots, not slashes, in 'com/acme'");
        assertThat(out.get("IS_INSTALLED")).isEqualTo("false");
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void installsFromJavaToolOptions(int feature, String jdk) throws Exception {
        ChildJvm.Outcome out = ChildJvm.run(Map.of("JAVA_TOOL_OPTIONS", "-javaagent:" + ChildJvm.agentJar()), jdk,
                List.of("-cp", ChildJvm.classpath()), PKG + "EndlessLoop");
        ScenarioTest.assertStandardRun(out, "dev\\.usethread\\.it\\.scenarios\\.EndlessLoop\\.spin");
        assertThat(out.stderr).contains("Picked up JAVA_TOOL_OPTIONS");
    }

    /** Virtual threads exist from JDK 21: JDK 25 only. */
    static Stream<Arguments> jdksWithVirtualThreads() {
        return jdks().filter(a -> (Integer) a.get()[0] >= 21);
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdksWithVirtualThreads")
    void cancelsOnAVirtualThread(int feature, String jdk) throws Exception {
        ChildJvm.Outcome out = ChildJvm.run(jdk, ChildJvm.withAgent(null), PKG + "VirtualThreadLoop");
        ScenarioTest.assertStandardRun(out, "dev\\.usethread\\.it\\.scenarios\\.EndlessLoop\\.spin");
        assertThat(out.get("JOB_THREAD_VIRTUAL")).as(out.toString()).isEqualTo("true");
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void optionsFromSystemPropertiesAndFile(int feature, String jdk, @TempDir Path dir) throws Exception {
        // exclude from a properties file named by a system property: the scenarios are then unwoven.
        Path file = dir.resolve("agent.properties");
        Files.writeString(file, "exclude=dev.usethread.it.scenarios.Hello\nverbose=true\n");
        List<String> jvm = new ArrayList<>(List.of("-Dusethread.config=" + file));
        jvm.addAll(ChildJvm.withAgent(null));
        ChildJvm.Outcome out = ChildJvm.run(jdk, jvm, PKG + "Hello");
        assertThat(out.exitCode).as(out.toString()).isZero();
        assertThat(out.get("HELLO")).as(out.toString()).isEqualTo("intrusive=true");
        // Hello is the only application class: excluded, nothing is woven.
        assertThat(out.stderr).as(out.toString()).contains("[usethread-agent] summary: 0 classes woven with 0 polls")
                .contains("exclude=dev.usethread.it.scenarios.Hello");

        Path dump = dir.resolve("dump");
        jvm = new ArrayList<>(List.of("-Dusethread.dump=" + dump));
        jvm.addAll(ChildJvm.withAgent("include=dev.usethread.it.scenarios.*"));
        out = ChildJvm.run(jdk, jvm, PKG + "Hello");
        assertThat(out.exitCode).as(out.toString()).isZero();
        assertThat(dump.resolve("dev/usethread/it/scenarios/Hello.class")).isRegularFile();
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void aClassThatCannotBeWovenIsLeftAloneAndReportedOnce(int feature, String jdk) throws Exception {
        ChildJvm.Outcome out = ChildJvm.run(jdk, ChildJvm.withAgent(null), PKG + "Unweavable");
        assertThat(out.exitCode).as(out.toString()).isZero();
        assertThat(out.lines).as(out.toString()).containsExactly("REJECTED_BY_JVM", "REJECTED_BY_JVM", "OK");
        String line = "[usethread-agent] left unwoven: dev.usethread.it.scenarios.Unweavable$Victim: "
                + "cannot read class file: Unsupported class file major version 99";
        assertThat(out.stderr.lines().filter(l -> l.equals(line))).as(out.toString()).hasSize(1);
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void everyWovenClassIsAJfrEvent(int feature, String jdk, @TempDir Path dir) throws Exception {
        Path recording = dir.resolve("weave.jfr");
        List<String> jvm = new ArrayList<>(List.of("-XX:StartFlightRecording=filename=" + recording));
        jvm.addAll(ChildJvm.withAgent(null));
        ChildJvm.Outcome out = ChildJvm.run(jdk, jvm, PKG + "Hello");
        assertThat(out.exitCode).as(out.toString()).isZero();
        List<RecordedEvent> weaves = new ArrayList<>();
        for (RecordedEvent e : RecordingFile.readAllEvents(recording)) {
            if (e.getEventType().getName().equals("dev.usethread.Weave")) {
                weaves.add(e);
            }
        }
        assertThat(weaves).as(out.toString()).anySatisfy(e -> {
            assertThat(e.getString("className")).isEqualTo(PKG + "Hello");
            assertThat(e.getInt("polls")).isEqualTo(2); // entries of main and of the constructor
        });
    }

    static Stream<Arguments> badOptions() {
        List<Arguments> out = new ArrayList<>();
        String[][] cases = {
            {"bogus=1", "unknown option 'bogus'"},
            {"verbose;includes=com.acme", "unknown option 'includes'"},
            {"include=com/acme/**", "malformed pattern in option 'include=com/acme/**'"},
            {"exclude=com..acme", "malformed pattern in option 'exclude=com..acme'"},
            {"jdk=java.util.regex,", "malformed pattern in option 'jdk=java.util.regex,'"},
            {"include=com.acme.***", "malformed pattern"},
            {"verbose=maybe", "option 'verbose' takes true or false"},
            {"dump", "option 'dump' needs a value"},
            {"config=/nonexistent/usethread.properties", "cannot read config file"},
        };
        for (String jdk : ChildJvm.jdks()) {
            for (String[] c : cases) {
                out.add(Arguments.of(ChildJvm.feature(jdk), jdk, c[0], c[1]));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "JDK {0}: {2}")
    @MethodSource("badOptions")
    void badOptionStopsStartUpWithAClearMessage(int feature, String jdk, String options, String message)
            throws Exception {
        ChildJvm.Outcome out = ChildJvm.run(jdk, ChildJvm.withAgent(options), PKG + "Hello");
        assertThat(out.exitCode).as(out.toString()).isEqualTo(2);
        assertThat(out.get("HELLO")).as("main must not run").isNull();
        assertThat(out.stderr).as(out.toString()).contains(message).contains("Valid options")
                .contains("include=<patterns>").contains("dump=<directory>");
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void badSystemPropertyAndBadFileEntry(int feature, String jdk, @TempDir Path dir) throws Exception {
        List<String> jvm = new ArrayList<>(List.of("-Dusethread.include=a-b"));
        jvm.addAll(ChildJvm.withAgent(null));
        ChildJvm.Outcome out = ChildJvm.run(jdk, jvm, PKG + "Hello");
        assertThat(out.exitCode).as(out.toString()).isEqualTo(2);
        assertThat(out.stderr).contains("malformed pattern in option 'include=a-b'");

        Path file = dir.resolve("bad.properties");
        Files.writeString(file, "verbose=true\nincldue=com.acme\n");
        out = ChildJvm.run(jdk, ChildJvm.withAgent("config=" + file), PKG + "Hello");
        assertThat(out.exitCode).as(out.toString()).isEqualTo(2);
        assertThat(out.stderr).contains("unknown option 'incldue' (in config file '" + file + "')");
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void javaDashJarPrintsWhatItIs(int feature, String jdk) throws Exception {
        ChildJvm.Outcome out = ChildJvm.run(jdk, List.of("-jar", ChildJvm.agentJar().toString()), null);
        assertThat(out.exitCode).as(out.toString()).isZero();
        String all = String.join("\n", out.lines);
        assertThat(all).contains("usethread agent 0.1.0-SNAPSHOT").contains("-javaagent:")
                .contains("include=<patterns>").contains("exclude=<patterns>").contains("jdk=<patterns>")
                .contains("verbose").contains("dump=<directory>").contains("config=<file>");
    }
}
