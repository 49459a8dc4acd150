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
 * Safe stops with the agent, on JDK 17 and 25 (scenario {@code SafeStops}): cleanup on the way out of
 * a cancellation runs whole (embedded H2's session lock, a lock released through a woven helper in
 * {@code finally}), swallowers are still stopped (a catch-Throwable retry loop, a retry with backoff,
 * a reflective plugin host), a frame stopped at a method entry keeps its line, connection pools
 * (HikariCP, Commons DBCP) keep every connection through hundreds of deadlines, and loading caches
 * (Guava, Caffeine) still load every key.
 */
class SafeStopsTest {
    private static final String MAIN = "dev.usethread.it.scenarios.SafeStops";

    static Stream<Arguments> runs() {
        List<Arguments> out = new ArrayList<>();
        for (String jdk : ChildJvm.jdks()) {
            for (String mode : List.of("h2", "lock", "swallow", "plugins", "entryline", "callbacks", "pools", "caches")) {
                out.add(Arguments.of(ChildJvm.feature(jdk), jdk, mode));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "JDK {0}: {2}")
    @MethodSource("runs")
    void cleanupFinishesAndSwallowersStillStop(int feature, String jdk, String mode) throws Exception {
        ChildJvm.Outcome out = ChildJvm.run(jdk, ChildJvm.withAgent(null), MAIN, mode);
        assertThat(out.exitCode).as(out.toString()).isZero();
        assertThat(out.get("OK")).as(out.toString()).isNotNull();
        assertThat(out.get("INTRUSIVE")).as(out.toString()).isEqualTo("true");
        switch (mode) {
            case "h2":
                assertThat(out.get("ROUNDS")).as(out.toString()).isEqualTo("100");
                break;
            case "lock":
                assertThat(out.get("LOCK_RELEASED")).as(out.toString()).isEqualTo("20");
                break;
            case "swallow":
                assertThat(Integer.parseInt(out.get("SWALLOWED"))).as(out.toString()).isPositive();
                break;
            case "plugins":
                assertThat(Integer.parseInt(out.get("PLUGIN_FAILURES"))).as(out.toString()).isPositive();
                break;
            case "pools": // hundreds of deadlines landed, and both pools got every connection back
                assertThat(Integer.parseInt(out.get("POOL_STOPS"))).as(out.toString()).isGreaterThan(100);
                break;
            case "caches": // deadlines landed in loaders, and every key loaded afterwards
                assertThat(Integer.parseInt(out.get("CACHE_STOPS"))).as(out.toString()).isGreaterThan(20);
                break;
            case "callbacks":
                assertEveryCallbackFinished(out);
                break;
            default:
                assertThat(Integer.parseInt(out.get("FIB_LINE"))).as(out.toString()).isPositive();
        }
    }

    /** Every cleanup, listener call and log record (all woven) that started also finished. */
    private static void assertEveryCallbackFinished(ChildJvm.Outcome out) {
        // "cleanups listeners records of bodies": a job cancelled before its body's try has no cleanup
        String[] counts = out.get("CALLBACKS").split(" ");
        assertThat(counts[0]).as(out.toString()).isEqualTo(counts[4]);
        assertThat(Integer.parseInt(counts[4])).as(out.toString()).isGreaterThanOrEqualTo(10);
    }

    /** The same woven listeners, finally blocks and log backend, copied from a woven-class cache. */
    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("dev.usethread.it.AgentStartupTest#jdks")
    void callbacksFinishWhenTheirClassesComeFromTheCache(int feature, String jdk, @TempDir Path dir) throws Exception {
        long[] copied = new long[2];
        for (int run = 0; run < 2; run++) {
            ChildJvm.Outcome out = ChildJvm.run(jdk, ChildJvm.withAgent("cache=" + dir + ";verbose"), MAIN, "callbacks");
            assertThat(out.exitCode).as(out.toString()).isZero();
            assertThat(out.get("OK")).as(out.toString()).isNotNull();
            assertEveryCallbackFinished(out);
            copied[run] = out.cacheCounts()[0];
        }
        assertThat(copied[0]).isZero();
        assertThat(copied[1]).as("classes copied in the second run").isPositive();
    }
}
