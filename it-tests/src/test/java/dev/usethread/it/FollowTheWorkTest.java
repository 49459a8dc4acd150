package dev.usethread.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Cancellation follows the work (scenario {@code FollowTheWork}), in a child JVM with the agent on
 * JDK 17 and 25: what a job hands to the common pool, a fixed pool, a scheduled pool or
 * CompletableFuture stops within 2 s of the cancel (no thread left in the work, no CPU used), the
 * pools then serve new work on clean threads, and an outsider's task on the same pool is untouched.
 */
class FollowTheWorkTest {
    private static final String MAIN = "dev.usethread.it.scenarios.FollowTheWork";

    static Stream<Arguments> runs() {
        List<Arguments> out = new ArrayList<>();
        for (String jdk : ChildJvm.jdks()) {
            for (String mode : List.of("stream", "executor", "nested")) {
                out.add(Arguments.of(ChildJvm.feature(jdk), jdk, mode));
            }
        }
        return out.stream();
    }

    static Stream<Arguments> jdks() {
        return ChildJvm.jdks().stream().map(j -> Arguments.of(ChildJvm.feature(j), j));
    }

    @ParameterizedTest(name = "JDK {0}: {2}")
    @MethodSource("runs")
    void handedOffWorkStopsWithTheJob(int feature, String jdk, String mode) throws Exception {
        ChildJvm.Outcome out = ChildJvm.run(jdk, ChildJvm.withAgent(null), MAIN, mode);
        assertThat(out.exitCode).as(out.toString()).isZero();
        assertThat(out.get("OK")).as(out.toString()).isNotNull();
        assertThat(out.get("INTRUSIVE")).as(out.toString()).isEqualTo("true");
        assertThat(out.get("JOB")).as(out.toString()).isEqualTo("CANCELLED");
        assertThat(out.get("STOPPED")).as(out.toString()).isNotNull();
        assertThat(out.stderr).as(out.toString()).doesNotContain("do not follow cancellation")
                .doesNotContain("Exception in thread");
        switch (mode) {
            case "stream":
                assertThat(out.get("NEXT_STREAM")).as(out.toString()).isEqualTo("OK");
                assertThat(out.get("COMMON_POOL_NEXT")).as(out.toString()).isEqualTo("OK");
                break;
            case "executor":
                assertThat(out.get("BURNERS")).as(out.toString()).isEqualTo("5");
                for (String k : List.of("submit", "schedule", "supplyAsync", "supplyAsync_executor_")) {
                    assertThat(out.get("OUTCOME_" + k)).as(k + "\n" + out).isEqualTo("CancelledSignal");
                }
                assertThat(out.get("OUTSIDER_RUNNING")).as(out.toString()).isEqualTo("true");
                assertThat(out.get("OUTSIDER")).as(out.toString()).isEqualTo("true");
                assertThat(out.get("NEXT_SUPPLY_ASYNC")).as(out.toString()).isEqualTo("OK");
                assertNextTasks(out, 3);
                break;
            case "nested":
                assertThat(out.get("COMMON_POOL_NEXT")).as(out.toString()).isEqualTo("OK");
                assertNextTasks(out, 2);
                break;
            default:
                throw new IllegalArgumentException(mode);
        }
    }

    /** The control: with propagate=false the same stream keeps the common pool busy (the check above bites). */
    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void withPropagateOffTheWorkerKeepsRunning(int feature, String jdk) throws Exception {
        ChildJvm.Outcome out = ChildJvm.run(jdk, ChildJvm.withAgent("propagate=false"), MAIN, "stream", "expect=busy");
        assertThat(out.exitCode).as(out.toString()).isZero();
        assertThat(out.get("JOB")).as(out.toString()).isEqualTo("CANCELLED");
        assertThat(Integer.parseInt(out.get("STILL_BURNING"))).as(out.toString()).isPositive();
    }

    private static void assertNextTasks(ChildJvm.Outcome out, int pools) {
        List<String> next = out.lines.stream().filter(l -> l.startsWith("NEXT_TASK ")).toList();
        assertThat(next).as(out.toString()).hasSize(pools).allMatch(l -> l.equals("NEXT_TASK OK"));
    }
}
