package dev.usethread.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Weaves every class of eight real libraries and links them with bytecode verification on:
 * zero verify errors, and every class left unwoven has a reason; and a woven-class cache holding all of
 * them gives back the same bytes.
 */
class WeaveWorldTest {
    private static final List<String> LIBS = List.of("guava-", "jackson-databind-", "jackson-core-", "rhino-",
            "groovy-", "kotlin-stdlib-", "scala-library-", "commons-math3-", "byte-buddy-1");

    static Stream<Arguments> jdks() {
        return ChildJvm.jdks().stream().map(j -> Arguments.of(ChildJvm.feature(j), j));
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void everyClassOfEightLibrariesWeavesAndVerifies(int feature, String jdk) throws Exception {
        List<String> libs = new ArrayList<>();
        List<String> rest = new ArrayList<>();
        for (String entry : ChildJvm.classpath().split(File.pathSeparator)) {
            String name = new File(entry).getName();
            if (!entry.endsWith(".jar")) {
                continue;
            }
            (LIBS.stream().anyMatch(name::startsWith) ? libs : rest).add(entry);
        }
        assertThat(libs).hasSize(LIBS.size());
        List<String> jvm = List.of("-XX:+UnlockDiagnosticVMOptions", "-XX:+BytecodeVerificationLocal", "-XX:+BytecodeVerificationRemote",
                "-cp", ChildJvm.classpath() + File.pathSeparator + ChildJvm.agentJar());
        List<String> args = new ArrayList<>(libs);
        args.add("--");
        args.addAll(rest);
        ChildJvm.Outcome out = ChildJvm.run(jdk, jvm, "dev.usethread.it.world.WeaveWorld", args.toArray(new String[0]));
        for (String line : out.lines) {
            if (line.startsWith("LIB ") || line.startsWith("SKIP ") || line.startsWith("WEAVING_BROKE")) {
                System.out.println("JDK " + feature + " " + line);
            }
        }
        assertThat(out.exitCode).as(out.toString()).isZero();
        assertThat(out.lines).as(out.toString()).contains("OK").noneMatch(l -> l.startsWith("WEAVING_BROKE"));
        assertThat(out.lines.stream().filter(l -> l.startsWith("LIB ")).count()).isEqualTo(LIBS.size());
        assertThat(out.lines).filteredOn(l -> l.startsWith("LIB ")).allMatch(l -> l.contains(" verifyErrors=0 "));
        assertThat(out.lines).filteredOn(l -> l.startsWith("SKIP ")).allMatch(l -> l.split(" ", 3).length == 3);
        // Every outcome, written to a woven-class cache and read back, is the same bytes.
        String cache = out.lines.stream().filter(l -> l.startsWith("CACHE ")).findFirst().orElse("");
        assertThat(cache).as(out.toString()).matches("CACHE kept=(\\d+) same=\\1");
        assertThat(Long.parseLong(cache.replaceAll("CACHE kept=(\\d+) .*", "$1"))).isGreaterThan(15_000);
    }
}
