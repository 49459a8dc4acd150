package dev.usethread.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One runtime copy however the agent is installed: from code after runtime classes were loaded, and
 * for an application on the module path (requires dev.usethread.runtime) with -javaagent, without it,
 * and with the agent jar on the module path too, installing from code. Where one copy cannot serve
 * (jdk= with the runtime in the application's loader) the JVM is told at once what to change.
 */
class OneRuntimeCopyTest {
    private static final String PKG = "dev.usethread.it.scenarios.";
    @TempDir
    static Path modules;

    static Stream<Arguments> jdks() {
        return ChildJvm.jdks().stream().map(j -> Arguments.of(ChildJvm.feature(j), j));
    }

    private static List<String> classPathWithAgentJar() {
        return List.of("-cp", ChildJvm.classpath() + File.pathSeparator + ChildJvm.agentJar());
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void installAfterRuntimeClassesWereLoadedKeepsTheApplicationsCopy(int feature, String jdk) throws Exception {
        ChildJvm.Outcome out = ChildJvm.run(jdk, classPathWithAgentJar(), PKG + "InstallAfterRuntime");
        assertThat(out.get("BEFORE_INTRUSIVE")).as(out.toString()).isEqualTo("false");
        assertThat(out.get("INSTALLED")).as(out.toString()).isEqualTo("true");
        assertThat(out.get("INTRUSIVE")).as(out.toString()).isEqualTo("true");
        assertThat(out.get("RUNTIME_LOADER")).as(out.toString()).startsWith("jdk.internal.loader.ClassLoaders$AppClassLoader");
        assertThat(out.get("ATTEMPT1")).as(out.toString()).startsWith("CANCELLED");
        assertThat(out.get("ATTEMPT2")).as(out.toString()).startsWith("CANCELLED");
        assertThat(out.get("THROWN_AT")).as(out.toString()).isEqualTo("dev.usethread.it.late.LateJob.spin");
        assertThat(out.get("OK")).as(out.toString()).isNotNull();
        assertThat(out.stderr).as(out.toString()).doesNotContain("Error", "second copy");
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void installAfterRuntimeClassesWereLoadedRefusesJdkWeavingWithAMessage(int feature, String jdk) throws Exception {
        ChildJvm.Outcome out = ChildJvm.run(jdk, classPathWithAgentJar(), PKG + "InstallAfterRuntime",
                "jdk=java.util.regex");
        assertThat(out.exitCode).as(out.toString()).isZero();
        assertThat(out.get("CAUGHT")).as(out.toString()).startsWith(
                "[usethread-agent] jdk= needs the usethread runtime on the boot class path")
                .contains("Install it before any usethread class is loaded (or start the JVM with -javaagent)");
        assertThat(out.get("IS_INSTALLED")).as(out.toString()).isEqualTo("false");
    }

    /** Module lib (explicit, reads nothing of usethread) spins; module app requires it and the runtime. */
    @BeforeAll
    static void compileModules() throws Exception {
        Path src = modules.resolve("src");
        write(src.resolve("lib/module-info.java"), "module lib { exports lib; }");
        write(src.resolve("lib/lib/Spin.java"), "package lib; public final class Spin {"
                + " public static long spin() { long x = 0; while (true) { x += x ^ 31; } } }");
        write(src.resolve("app/module-info.java"), "module app { requires lib; requires dev.usethread.runtime;"
                + " requires static dev.usethread.agent; }");
        write(src.resolve("app/app/Main.java"), String.join("\n",
                "package app;",
                "import dev.usethread.Cancellation;",
                "import dev.usethread.UseThread;",
                "import java.time.Duration;",
                "import java.util.concurrent.TimeoutException;",
                "public final class Main {",
                "  public static void main(String[] args) throws Exception {",
                "    System.out.println(\"RUNTIME_MODULE \" + UseThread.class.getModule().getName());",
                "    if (args.length > 0) { dev.usethread.agent.UsethreadAgent.install(); }",
                "    System.out.println(\"INTRUSIVE \" + Cancellation.isIntrusive());",
                "    if (!Cancellation.isIntrusive()) { return; }",
                "    try {",
                "      Cancellation.withTimeout(Duration.ofMillis(200), lib.Spin::spin);",
                "    } catch (TimeoutException e) {",
                "      System.out.println(\"STOPPED \" + e.getMessage());",
                "    }",
                "  }",
                "}"));
        Path out = modules.resolve("out");
        int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null, "--release", "17", "-d", out.toString(),
                "--module-source-path", src.toString(), "--module-path", runtimeJar() + File.pathSeparator
                        + ChildJvm.agentJar(), "--module", "lib,app");
        assertThat(rc).as("javac").isZero();
    }

    private static void write(Path file, String text) throws Exception {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }

    static Path runtimeJar() {
        Path jar = Paths.get(System.getProperty("usethread.runtime.jar", "")).toAbsolutePath().normalize();
        assertThat(jar).as("usethread.runtime.jar (the packaged runtime)").isRegularFile();
        return jar;
    }

    /** JVM options, the module path (lib, app, the runtime jar, then {@code more}) and -m app. */
    private static List<String> modulePath(String option, Path... more) {
        StringBuilder path = new StringBuilder(modules.resolve("out/lib") + File.pathSeparator
                + modules.resolve("out/app") + File.pathSeparator + runtimeJar());
        for (Path p : more) {
            path.append(File.pathSeparator).append(p);
        }
        List<String> args = new ArrayList<>();
        if (option != null) {
            args.add(option);
        }
        args.addAll(List.of("--module-path", path.toString()));
        if (more.length > 0) {
            args.addAll(List.of("--add-modules", "dev.usethread.agent"));
        }
        args.addAll(List.of("-m", "app/app.Main"));
        return args;
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void modulePathWithJavaagentUsesTheRuntimeModuleAsTheOneCopy(int feature, String jdk) throws Exception {
        ChildJvm.Outcome out = ChildJvm.run(jdk, modulePath("-javaagent:" + ChildJvm.agentJar()), null);
        assertThat(out.exitCode).as(out.toString()).isZero();
        assertThat(out.get("RUNTIME_MODULE")).as(out.toString()).isEqualTo("dev.usethread.runtime");
        assertThat(out.get("INTRUSIVE")).as(out.toString()).isEqualTo("true");
        // The loop in module lib, which reads nothing of usethread, was woven and stopped.
        assertThat(out.get("STOPPED")).as(out.toString()).contains("deadline of PT0.2S passed", "lib.Spin.spin");
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void modulePathWithoutTheAgentIsCooperative(int feature, String jdk) throws Exception {
        ChildJvm.Outcome out = ChildJvm.run(jdk, modulePath(null), null);
        assertThat(out.exitCode).as(out.toString()).isZero();
        assertThat(out.get("RUNTIME_MODULE")).as(out.toString()).isEqualTo("dev.usethread.runtime");
        assertThat(out.get("INTRUSIVE")).as(out.toString()).isEqualTo("false");
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void agentJarAndRuntimeShareTheModulePathAndInstallFromCode(int feature, String jdk) throws Exception {
        List<String> jvm = modulePath("-Djdk.attach.allowAttachSelf=true", ChildJvm.agentJar());
        ChildJvm.Outcome out = ChildJvm.run(jdk, jvm, null, "install");
        assertThat(out.exitCode).as(out.toString()).isZero();
        assertThat(out.get("RUNTIME_MODULE")).as(out.toString()).isEqualTo("dev.usethread.runtime");
        assertThat(out.get("INTRUSIVE")).as(out.toString()).isEqualTo("true");
        assertThat(out.get("STOPPED")).as(out.toString()).contains("deadline of PT0.2S passed", "lib.Spin.spin");
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void modulePathWithJdkWeavingStopsAtStartUpSayingWhatToChange(int feature, String jdk) throws Exception {
        ChildJvm.Outcome out = ChildJvm.run(jdk,
                modulePath("-javaagent:" + ChildJvm.agentJar() + "=jdk=java.util.regex"), null);
        assertThat(out.exitCode).as(out.toString()).isEqualTo(2);
        assertThat(out.get("RUNTIME_MODULE")).as("main never ran").isNull();
        assertThat(out.stderr).as(out.toString()).contains("[usethread-agent] jdk= needs the usethread runtime on the"
                + " boot class path", "module dev.usethread.runtime on the module path. Put usethread-runtime on the"
                + " class path instead, or drop jdk=");
    }
}
