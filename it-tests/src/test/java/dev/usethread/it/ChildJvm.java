package dev.usethread.it;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/** Starts a scenario in a fresh JVM and collects its line protocol. */
final class ChildJvm {
    static final long TIMEOUT_SECONDS = 180;

    static Path agentJar() {
        Path jar = Paths.get(System.getProperty("usethread.agent.jar", "../agent/target/usethread-agent.jar"))
                .toAbsolutePath().normalize();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("agent jar not built: " + jar);
        }
        return jar;
    }

    static String classpath() {
        String cp = System.getProperty("usethread.child.classpath");
        if (cp == null || cp.isBlank()) {
            throw new IllegalStateException("usethread.child.classpath not set (run through Maven)");
        }
        return cp;
    }

    static final String DEFAULT_JDK25_HOME = "/usr/lib/jvm/temurin-25-jdk-amd64";

    /**
     * The JDKs every scenario runs on: the one running the build (17) and JDK 25. JDK 25 is listed
     * even when it is missing, so that its cases show up as skipped (see {@link #run}), not vanish.
     */
    static List<String> jdks() {
        List<String> homes = new ArrayList<>();
        homes.add(System.getProperty("java.home"));
        String jdk25 = jdk25Home();
        if (!Paths.get(jdk25).toAbsolutePath().normalize()
                .equals(Paths.get(homes.get(0)).toAbsolutePath().normalize())) {
            homes.add(jdk25);
        }
        return homes;
    }

    /** {@code -Dusethread.jdk25.home}, else {@code JDK25_HOME}, else the Temurin package's path. */
    static String jdk25Home() {
        return setting("usethread.jdk25.home", "JDK25_HOME", DEFAULT_JDK25_HOME);
    }

    /**
     * A JDK that is not installed skips the calling test, saying where it was looked for, unless JDK 25
     * is required ({@code -Dusethread.jdk25.required=true} or {@code USETHREAD_JDK25_REQUIRED=true},
     * as .ci/run sets it): there a missing JDK is a broken set-up and fails the test.
     */
    static void requireOrSkipMissing(String javaHome) {
        if (Files.isExecutable(Paths.get(javaHome, "bin", "java"))) {
            return;
        }
        String reason = "no JDK at " + javaHome + ", so its cases cannot run; install Temurin 25 there or set"
                + " JDK25_HOME (or -Dusethread.jdk25.home) to a JDK 25";
        if (Boolean.parseBoolean(setting("usethread.jdk25.required", "USETHREAD_JDK25_REQUIRED", "false"))) {
            Assertions.fail(reason + " (JDK 25 is required here: USETHREAD_JDK25_REQUIRED=true)");
        }
        if (REPORTED_MISSING.add(javaHome)) {
            System.err.println("[jdk25] SKIPPED: " + reason);
        }
        Assumptions.abort(reason);
    }

    private static final Set<String> REPORTED_MISSING = ConcurrentHashMap.newKeySet();

    private static String setting(String property, String environmentVariable, String fallback) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            value = System.getenv(environmentVariable);
        }
        return value == null || value.isBlank() ? fallback : value.trim();
    }

    /** The feature release of a JDK, from its release file; a missing JDK 25 home counts as 25. */
    static int feature(String javaHome) {
        try {
            for (String line : Files.readAllLines(Paths.get(javaHome, "release"))) {
                if (line.startsWith("JAVA_VERSION=")) {
                    String v = line.substring("JAVA_VERSION=".length()).replace("\"", "");
                    return Integer.parseInt(v.split("[.+-]")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        if (javaHome.equals(jdk25Home())) {
            return 25;
        }
        return Runtime.version().feature();
    }

    /** What a child JVM printed and how it ended. */
    static final class Outcome {
        final int exitCode;
        final List<String> lines;
        final String stderr;
        final Map<String, String> protocol = new LinkedHashMap<>();

        Outcome(int exitCode, List<String> lines, String stderr) {
            this.exitCode = exitCode;
            this.lines = lines;
            this.stderr = stderr;
            for (String line : lines) {
                int sp = line.indexOf(' ');
                protocol.putIfAbsent(sp < 0 ? line : line.substring(0, sp), sp < 0 ? "" : line.substring(sp + 1));
            }
        }

        String get(String key) {
            return protocol.get(key);
        }

        /**
         * From the agent's verbose summary: the classes copied from the woven-class cache and those added
         * to it. Fails if the summary does not say.
         */
        long[] cacheCounts() {
            Matcher m = Pattern.compile("(\\d+) classes copied from the cache, (\\d+) added to it").matcher(stderr);
            if (!m.find()) {
                throw new AssertionError("no cache counts in the verbose summary\n" + this);
            }
            return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))};
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + String.join("\n", lines) + "\n--- stderr\n" + stderr;
        }
    }

    static Outcome run(String javaHome, List<String> jvmArgs, String mainClass, String... args)
            throws IOException, InterruptedException {
        return run(Map.of(), javaHome, jvmArgs, mainClass, args);
    }

    static Outcome run(Map<String, String> env, String javaHome, List<String> jvmArgs, String mainClass,
            String... args) throws IOException, InterruptedException {
        requireOrSkipMissing(javaHome);
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(javaHome, "bin", "java").toString());
        cmd.addAll(jvmArgs);
        if (mainClass != null) {
            cmd.add(mainClass);
        }
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().putAll(env);
        File err = File.createTempFile("usethread-child", ".err");
        pb.redirectError(err);
        Process p = pb.start();
        List<String> lines = new ArrayList<>();
        try {
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(
                        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        synchronized (lines) {
                            lines.add(line);
                        }
                    }
                } catch (IOException e) {
                    // process killed
                }
            });
            reader.start();
            boolean exited = p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (!exited) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            reader.join(10_000);
            String stderr = Files.readString(err.toPath(), StandardCharsets.UTF_8);
            synchronized (lines) {
                return new Outcome(exited ? p.exitValue() : -1, new ArrayList<>(lines),
                        (exited ? "" : "(killed after " + TIMEOUT_SECONDS + " s)\n") + stderr);
            }
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(err.toPath());
        }
    }

    static List<String> withAgent(String agentArgs, String... more) {
        List<String> a = new ArrayList<>();
        a.add("-javaagent:" + agentJar() + (agentArgs == null ? "" : "=" + agentArgs));
        a.addAll(Arrays.asList(more));
        a.add("-cp");
        a.add(classpath());
        return a;
    }
}
