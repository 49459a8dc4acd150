package dev.usethread.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every scenario in a fresh JVM with the built agent jar, on JDK 17 and JDK 25: the job is
 * cancelled where it never checks anything, ends CANCELLED, can be retried and cancelled again, and
 * a bystander thread is not disturbed. THROWN_AT shows which woven method's poll stopped it.
 */
class ScenarioTest {
    private static final String PKG = "dev.usethread.it.scenarios.";
    private static final String Q = "dev\\.usethread\\.it\\.scenarios\\.";

    /**
     * Scenario class, agent arguments, program argument, a regex for where the stopping poll was, and
     * a class file the dump must contain (proof that a class generated at run time was woven).
     */
    static Stream<Arguments> scenarios() {
        List<Object[]> s = new ArrayList<>();
        s.add(new Object[] {"EndlessLoop", null, null, Q + "EndlessLoop\\.spin", null});
        s.add(new Object[] {"Recursion", null, null, Q + "Recursion\\.fib", null});
        s.add(new Object[] {"LambdaLoop", null, null, Q + "LambdaLoop\\.lambda\\$.*", null});
        s.add(new Object[] {"ConstructorLoop", null, null, Q + "ConstructorLoop\\.<init>", null});
        s.add(new Object[] {"CatchThrowable", null, null, Q + "CatchThrowable\\.stubborn", null});
        s.add(new Object[] {"SynchronizedFinally", null, null, Q + "SynchronizedFinally\\.spin", null});
        s.add(new Object[] {"SwallowedInterrupt", null, "sleep", Q + "SwallowedInterrupt\\.sleeper", null});
        s.add(new Object[] {"SwallowedInterrupt", null, "wait", Q + "SwallowedInterrupt\\.waiter", null});
        s.add(new Object[] {"Park", null, null, Q + "Park\\.parker", null});
        // Rhino catches the first signal and calls more (woven) code of its own: the sticky
        // cancellation throws there again, so the poll is somewhere in Rhino.
        s.add(new Object[] {"RhinoScript", null, "interpreted", "org\\.mozilla\\.javascript\\..*", null});
        s.add(new Object[] {"RhinoScript", null, "compiled", "org\\.mozilla\\.javascript\\..*",
            "org/mozilla/javascript/gen/spin_js_1.class"});
        // Groovy catches the signal and rethrows it wrapped; the job still ends CANCELLED.
        s.add(new Object[] {"GroovyScript", null, null, "(Spin|groovy\\.|org\\.apache\\.groovy\\.|org\\.codehaus\\.groovy\\.).*",
            "Spin.class"});
        // Script engines that compile to classes: the generated class's back-edge, or the engine's
        // own code once it has caught and wrapped the first signal.
        s.add(new Object[] {"NashornScript", null, null, "org\\.openjdk\\.nashorn\\..*", null});
        s.add(new Object[] {"JythonScript", null, null, "org\\.python\\..*", null});
        s.add(new Object[] {"ClojureLoop", null, null, "(clojure\\.|user\\$).*", null});
        s.add(new Object[] {"RegexBacktracking", "jdk=java.util.regex", null, "java\\.util\\.regex\\..*", null});
        s.add(new Object[] {"BigNumberComputation", "jdk=java.math", null, "java\\.math\\..*", null});
        // Every JDK package that may be opted in (jdk= refuses the others).
        s.add(new Object[] {"EndlessLoop", "jdk=java.util.regex,java.math", null, Q + "EndlessLoop\\.spin", null});
        s.add(new Object[] {"LibraryComputation", null, null, "org\\.apache\\.commons\\.math3\\.linear\\..*", null});
        s.add(new Object[] {"ChildFirstLoader", null, null, "dev\\.usethread\\.it\\.childfirst\\.Spinner\\.call", null});
        List<Arguments> out = new ArrayList<>();
        for (String jdk : ChildJvm.jdks()) {
            for (Object[] x : s) {
                out.add(Arguments.of(ChildJvm.feature(jdk), jdk, x[0], x[1], x[2], x[3], x[4]));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "JDK {0}: {2} {4}")
    @MethodSource("scenarios")
    void cancelsAndStaysHealthy(int feature, String jdk, String scenario, String agentArgs, String arg,
            String thrownAt, String dumped, @TempDir Path dump) throws Exception {
        String args = "dump=" + dump + (agentArgs == null ? "" : ";" + agentArgs);
        ChildJvm.Outcome out = arg == null
                ? ChildJvm.run(jdk, ChildJvm.withAgent(args), PKG + scenario)
                : ChildJvm.run(jdk, ChildJvm.withAgent(args), PKG + scenario, arg);
        assertStandardRun(out, thrownAt);
        if (dumped != null) {
            assertThat(dump.resolve(dumped)).as("woven class written by dump=").isRegularFile();
        }
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void staticInitializerIsNeverPoisoned(int feature, String jdk) throws Exception {
        ChildJvm.Outcome out = ChildJvm.run(jdk, ChildJvm.withAgent(null), PKG + "ClinitLoop");
        assertThat(out.exitCode).as(out.toString()).isZero();
        assertThat(out.get("ATTEMPT1")).as(out.toString()).isEqualTo("CANCELLED");
        // The signal came at the first poll after the initializer, not inside it.
        assertThat(out.get("THROWN_AT")).as(out.toString()).isEqualTo(PKG + "EndlessLoop.spin");
        assertThat(out.get("SLOW_VALUE")).as(out.toString()).isEqualTo("42");
    }

    /**
     * The polls of GroupPolls (pN, hN) are @ForceInline, and C2 honours that in the agent's copy,
     * which the boot loader defines: woven polls are inlined whatever the caller's inlining budget (big
     * woven methods stay fast).
     *
     * <p>Read from -XX:+LogCompilation, not -XX:+PrintInlining: PrintInlining writes to stdout, where
     * several compiler threads (and the application) interleave their lines on a busy machine. With
     * LogCompilation each compiler thread writes its own file, which the JVM appends whole to LogFile
     * at exit; every compilation is one {@code <task>} element there, read with an XML parser.
     */
    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void c2InlinesEveryPollByAnnotation(int feature, String jdk, @TempDir Path dir) throws Exception {
        Path log = dir.resolve("compilation.xml");
        ChildJvm.Outcome out = endlessLoopLoggingCompilation(jdk, log);
        assertThat(out.exitCode).as(out.toString()).isZero();
        // Every pN and hN is marked (runtime's GroupPolls); the hooks are not.
        List<String> reasons = CompilationLog.c2InliningReasons(log, "dev.usethread.internal.GroupPolls", "p[0-9]+");
        assertThat(reasons).as("C2's inlining decisions for calls to GroupPolls.pN()").isNotEmpty()
                .containsOnly("force inline by annotation");
        // EndlessLoop may hold no loop in handler code; any call C2 saw must be inlined the same way.
        List<String> inHandler = CompilationLog.c2InliningReasons(log, "dev.usethread.internal.GroupPolls",
                "h[0-9]+");
        assertThat(inHandler).as("C2's inlining decisions for calls to GroupPolls.hN()")
                .allMatch("force inline by annotation"::equals);
    }

    /**
     * While a site is armed (here every site, {@code -Dusethread.poll=flag}) a woven poll runs
     * {@code Poll.armedPoll()}, which C2 must inline (a load and a branch, not a call per poll), and
     * never its slow path {@code armedPollSlow()} (a hundred inlined copies made Rhino's interpreter
     * loop too big for C2). The job is still stopped.
     */
    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void armedPollsInlineTheCheckAndNeverTheSlowPath(int feature, String jdk, @TempDir Path dir) throws Exception {
        Path log = dir.resolve("compilation.xml");
        ChildJvm.Outcome out = endlessLoopLoggingCompilation(jdk, log, "-Dusethread.poll=flag");
        assertThat(out.exitCode).as(out.toString()).isZero();
        assertThat(out.get("ATTEMPT1")).as(out.toString()).startsWith("CANCELLED");
        List<String> check = CompilationLog.c2InliningReasons(log, "dev.usethread.internal.Poll", "armedPoll");
        assertThat(check).as("C2's inlining decisions for calls to Poll.armedPoll()").isNotEmpty()
                .containsOnly("force inline by annotation");
        List<String> slow = CompilationLog.c2InliningReasons(log, "dev.usethread.internal.Poll", "armedPollSlow");
        assertThat(slow).as("C2's inlining decisions for calls to Poll.armedPollSlow()")
                .allMatch(reason -> reason.startsWith("don't inline"));
    }

    /** Scenario EndlessLoop with the agent, C2's decisions logged to {@code log} (-XX:+LogCompilation). */
    static ChildJvm.Outcome endlessLoopLoggingCompilation(String jdk, Path log, String... options) throws Exception {
        List<String> jvmArgs = new ArrayList<>(ChildJvm.withAgent(null));
        jvmArgs.addAll(List.of(options));
        jvmArgs.add("-XX:+UnlockDiagnosticVMOptions");
        jvmArgs.add("-XX:+LogCompilation");
        jvmArgs.add("-XX:LogFile=" + log);
        return ChildJvm.run(jdk, jvmArgs, PKG + "EndlessLoop");
    }

    static Stream<Arguments> jdks() {
        return ChildJvm.jdks().stream().map(j -> Arguments.of(ChildJvm.feature(j), j));
    }

    static void assertStandardRun(ChildJvm.Outcome out, String thrownAt) {
        assertThat(out.exitCode).as(out.toString()).isZero();
        assertThat(out.get("OK")).as(out.toString()).isNotNull();
        assertThat(out.get("INTRUSIVE")).as(out.toString()).isEqualTo("true");
        // The application's own usethread-runtime is on its class path, yet it shares the boot copy.
        assertThat(out.get("RUNTIME_LOADER")).as(out.toString()).isEqualTo("null");
        assertThat(out.get("ATTEMPT1")).as(out.toString()).startsWith("CANCELLED");
        assertThat(out.get("ATTEMPT2")).as(out.toString()).startsWith("CANCELLED");
        assertThat(out.get("THROWN_AT")).as(out.toString()).matches(thrownAt);
        assertThat(out.get("BYSTANDER")).as(out.toString()).isEqualTo("OK");
        assertThat(out.stderr).as(out.toString()).doesNotContain("[usethread-agent] left unwoven:");
    }
}
