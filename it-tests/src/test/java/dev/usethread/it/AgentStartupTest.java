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
                + "cannot read class file: class-file version 99 (the agent weaves 45 to 69)";
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
            {"cache=", "option 'cache' needs a directory"},
            {"config=/nonexistent/usethread.properties", "cannot read config file"},
            {"config=/dev/zero", "cannot read config file '/dev/zero': not a regular file"},
            {"jdk=java.util", "option 'jdk' may not name 'java.util': it would weave JDK code"},
            {"jdk=java.**", "java.util.concurrent: locks, queues and executors would be left broken"},
            {"jdk=java.util.regex,java.util.concurrent.locks", "Only these JDK packages may be woven"},
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

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void aConfigFileThatIsAPipeBinaryOrHugeFailsAtOnceAndIsNotEchoed(int feature, String jdk, @TempDir Path dir)
            throws Exception {
        Path fifo = dir.resolve("fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        org.junit.jupiter.api.Assumptions.assumeTrue(mkfifo.waitFor() == 0, "mkfifo is not available");
        ChildJvm.Outcome out = ChildJvm.run(jdk, ChildJvm.withAgent("config=" + fifo), PKG + "Hello");
        assertThat(out.exitCode).as(out.toString()).isEqualTo(2);
        assertThat(out.stderr).contains("cannot read config file '" + fifo + "': not a regular file");

        Path binary = dir.resolve("binary");
        Files.write(binary, new byte[] {0x1b, ']', '0', ';', 'x', 0x07, 0x1b, '[', '2', 'J', 0, (byte) 0xfe, '=', '1'});
        Path secret = dir.resolve("secret");
        Files.writeString(secret, "ghp_" + "A1b2C3d4".repeat(5) + "\n");
        Path longKey = dir.resolve("long");
        Files.writeString(longKey, "k".repeat(40_000) + "=1\n");
        Path huge = dir.resolve("huge");
        Files.writeString(huge, "k".repeat(300_000) + "=1\n");
        String[][] cases = {
            {binary.toString(), "unknown option (a name of 12 characters, not shown)"},
            {secret.toString(), "unknown option (a name of 44 characters, not shown)"},
            {longKey.toString(), "unknown option (a name of 40000 characters, not shown)"},
            {huge.toString(), "larger than 65536 bytes"},
        };
        for (String[] c : cases) {
            out = ChildJvm.run(jdk, ChildJvm.withAgent("config=" + c[0]), PKG + "Hello");
            assertThat(out.exitCode).as(out.toString()).isEqualTo(2);
            assertThat(out.stderr).as(out.toString()).contains(c[1]).doesNotContain("\u001b").doesNotContain("ghp_")
                    .doesNotContain("kkkk");
            assertThat(out.stderr.length()).as(out.toString()).isLessThan(4_000);
        }
        // A value typed on the command line is quoted, but escaped and cut.
        List<String> jvm = new ArrayList<>(List.of("-Dusethread.include=a\u001b[31m" + "b".repeat(100_000)));
        jvm.addAll(ChildJvm.withAgent(null));
        out = ChildJvm.run(jdk, jvm, PKG + "Hello");
        assertThat(out.exitCode).as(out.toString()).isEqualTo(2);
        assertThat(out.stderr).as(out.toString()).contains("'include=a\\u001b[31mbbb").contains("(100014 characters)")
                .doesNotContain("\u001b");
        assertThat(out.stderr.length()).as(out.toString()).isLessThan(4_000);
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void installFromCodeWithAPipeAsConfigThrowsAtOnce(int feature, String jdk, @TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        org.junit.jupiter.api.Assumptions.assumeTrue(mkfifo.waitFor() == 0, "mkfifo is not available");
        List<String> jvm = List.of("-cp", ChildJvm.classpath() + java.io.File.pathSeparator + ChildJvm.agentJar());
        ChildJvm.Outcome out = ChildJvm.run(jdk, jvm, PKG + "BadInstall", "config=" + fifo);
        assertThat(out.exitCode).as(out.toString()).isZero();
        assertThat(out.get("CAUGHT")).as(out.toString())
                .isEqualTo("usethread agent: cannot read config file '" + fifo + "': not a regular file (a directory,"
                        + " device or pipe)");
        assertThat(out.get("IS_INSTALLED")).isEqualTo("false");
    }

    static List<String> attachable(int feature) {
        List<String> jvm = new ArrayList<>();
        if (feature >= 21) {
            jvm.add("-XX:+EnableDynamicAgentLoading"); // jcmd is a serviceability tool
        }
        jvm.addAll(List.of("-cp", ChildJvm.classpath()));
        return jvm;
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void jcmdWithABadOptionFailsTheAttachAndTheApplicationGetsOneLine(int feature, String jdk) throws Exception {
        String jar = ChildJvm.agentJar().toString();
        ChildJvm.Outcome out = ChildJvm.run(jdk, attachable(feature), PKG + "JcmdSelf", jar, "\"jdk=java.util;verbose\"");
        assertThat(out.get("JCMD")).as(out.toString()).endsWith("return code: 102");
        assertThat(out.get("INSTALLED")).as(out.toString()).isEqualTo("false");
        // The JDK reports a failed agent with its own lines; ours is one line, with no stack and no usage.
        assertThat(out.stderr.lines().filter(l -> l.contains("usethread"))).as(out.toString()).containsExactly(
                out.stderr.lines().filter(l -> l.startsWith("Caused by: usethread agent: option 'jdk' may not name"
                        + " 'java.util': it would weave JDK code")).findFirst().orElse("(missing)"));
        assertThat(out.stderr).as(out.toString()).contains("java.util.concurrent: locks, queues")
                .doesNotContain("Valid options")
                // Refused before the jar was added to the boot class path: the JVM is as it was.
                .doesNotContain("bootstrap classpath has been appended");
        assertThat(out.get("ATTACH_PID_IN_CWD")).isEqualTo("false");
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void jcmdNeedsTheOptionsInDoubleQuotes(int feature, String jdk) throws Exception {
        String jar = ChildJvm.agentJar().toString();
        // Unquoted, jcmd's own parser splits name=value: the agent gets only "include".
        ChildJvm.Outcome out = ChildJvm.run(jdk, attachable(feature), PKG + "JcmdSelf", jar,
                "include=dev.usethread.it.scenarios.Hello;verbose");
        assertThat(out.get("JCMD")).as(out.toString()).endsWith("return code: 102");
        assertThat(out.stderr).as(out.toString()).contains("Caused by: usethread agent: option 'include' needs a value");

        out = ChildJvm.run(jdk, attachable(feature), PKG + "JcmdSelf", jar,
                "\"include=dev.usethread.it.scenarios.Hello;verbose\"");
        assertThat(out.get("JCMD")).as(out.toString()).endsWith("return code: 0");
        assertThat(out.get("INSTALLED")).as(out.toString()).isEqualTo("true");
        assertThat(out.stderr).as(out.toString())
                .contains("(attached), options {include=dev.usethread.it.scenarios.Hello, verbose=true}");
        // What an attach leaves (README, limits): no file in the working directory, the JVM's socket in /tmp.
        assertThat(out.get("ATTACH_PID_IN_CWD")).isEqualTo("false");
        assertThat(out.get("ATTACH_PID_IN_TMP")).isEqualTo("false");
        assertThat(out.get("SOCKET_IN_TMP")).isEqualTo("true");
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void dumpWritesOnlyInsideItsDirectory(int feature, String jdk, @TempDir Path dir) throws Exception {
        Path dump = dir.resolve("dump");
        Path outside = Files.createDirectories(dir.resolve("outside"));
        // defineClass(".<dir>.outside.Pwned") reaches the agent as the absolute "/<dir>/outside/Pwned".
        String name = outside.toString().replace('/', '.') + ".Pwned";
        assertThat(name).as("a temporary directory without dots in its path").matches("(\\.[A-Za-z0-9_$-]+)+");
        ChildJvm.Outcome out = ChildJvm.run(jdk, ChildJvm.withAgent("dump=" + dump), PKG + "DefineOddName", name);
        assertThat(out.get("DONE")).as(out.toString()).isNotNull();
        assertThat(out.get("REJECTED")).as(out.toString()).isEqualTo("NoClassDefFoundError");
        try (Stream<Path> files = Files.list(outside)) {
            assertThat(files).as(out.toString()).isEmpty();
        }
        assertThat(out.stderr.lines().filter(l -> l.startsWith("[usethread-agent] dump="))).as(out.toString())
                .containsExactly("[usethread-agent] dump='" + dump + "': not written: '" + name + "': the name would"
                        + " leave the directory (further dump failures are only counted in the verbose summary)");

        // A link inside the directory is not followed out of it.
        Path linked = dir.resolve("linked");
        Files.createSymbolicLink(Files.createDirectories(linked).resolve("dev"), outside);
        out = ChildJvm.run(jdk, ChildJvm.withAgent("dump=" + linked + ";include=dev.usethread.it.scenarios.*;verbose"),
                PKG + "Hello");
        assertThat(out.exitCode).as(out.toString()).isZero();
        try (Stream<Path> files = Files.list(outside)) {
            assertThat(files).as(out.toString()).isEmpty();
        }
        assertThat(out.stderr).as(out.toString()).contains("dev is a link or a file, not a directory")
                .contains("classes not dumped");
    }

    /**
     * cache=: the second run copies what the first wove, and defines the same bytes (the dumps of both
     * runs are identical), and a cancellation stops the script just as well.
     */
    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void theCacheGivesTheNextRunTheSameWovenClasses(int feature, String jdk, @TempDir Path dir) throws Exception {
        Path cache = dir.resolve("cache");
        long[][] counts = new long[2][];
        for (int run = 0; run < 2; run++) {
            Path dump = dir.resolve("dump" + run);
            ChildJvm.Outcome out = ChildJvm.run(jdk, ChildJvm.withAgent("cache=" + cache + ";dump=" + dump + ";verbose"),
                    PKG + "GroovyScript");
            ScenarioTest.assertStandardRun(out,
                    "(Spin|groovy\\.|org\\.apache\\.groovy\\.|org\\.codehaus\\.groovy\\.).*");
            counts[run] = out.cacheCounts();
            assertThat(out.stderr).as(out.toString()).doesNotContain("[usethread-agent] cache=");
        }
        assertThat(counts[0][0]).as("first run: nothing to copy").isZero();
        assertThat(counts[0][1]).as("first run: classes kept").isGreaterThan(500);
        assertThat(counts[1][0]).as("second run: classes copied").isGreaterThanOrEqualTo(counts[0][1] * 9 / 10);
        assertThat(counts[1][1]).as("second run: classes added").isLessThan(counts[0][1] / 10);
        Map<String, byte[]> first = dumped(dir.resolve("dump0"));
        Map<String, byte[]> second = dumped(dir.resolve("dump1"));
        // The script engine may load a class or two more or fewer, depending on timing.
        java.util.Set<String> both = new java.util.TreeSet<>(first.keySet());
        both.retainAll(second.keySet());
        assertThat(both.size()).as("classes dumped by both runs").isGreaterThanOrEqualTo(first.size() * 95 / 100);
        for (String name : both) {
            assertThat(second.get(name)).as(name).isEqualTo(first.get(name));
        }
    }

    /** install("cache=...") after start-up: the classes retransformed then are kept and copied too. */
    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void theCacheWorksForAnAgentInstalledFromCode(int feature, String jdk, @TempDir Path dir) throws Exception {
        List<String> jvm = List.of("-cp", ChildJvm.classpath() + java.io.File.pathSeparator + ChildJvm.agentJar());
        long[] copied = new long[2];
        for (int run = 0; run < 2; run++) {
            ChildJvm.Outcome out = ChildJvm.run(jdk, jvm, PKG + "LateAttach", "cache=" + dir.resolve("cache") + ";verbose");
            assertThat(out.get("INSTALLED")).as(out.toString()).isEqualTo("true");
            ScenarioTest.assertStandardRun(out, "dev\\.usethread\\.it\\.late\\.LateJob\\.spin");
            copied[run] = out.cacheCounts()[0];
        }
        assertThat(copied[0]).isZero();
        assertThat(copied[1]).as("classes copied in the second run").isPositive();
    }

    private static Map<String, byte[]> dumped(Path dir) throws Exception {
        Map<String, byte[]> out = new java.util.TreeMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                out.put(dir.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }
}
