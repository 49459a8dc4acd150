package dev.usethread.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Existing executor code with the agent (scenario {@code DropIn}), JDK 17 and 25: tasks that never
 * check anything stop within 2 s of {@code cancel(true)}, an {@code invokeAll} timeout, an
 * {@code orTimeout} and {@code shutdownNow} when their pool is wrapped by {@code Cancellable}, and the
 * pool's next task runs on a clean thread; with the agent's {@code executors=intrusive} the same
 * holds for plain pools and CompletableFuture, and without it they only interrupt.
 */
class DropInTest {
    private static final String MAIN = "dev.usethread.it.scenarios.DropIn";

    static Stream<Arguments> jdks() {
        return ChildJvm.jdks().stream().map(j -> Arguments.of(ChildJvm.feature(j), j));
    }

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void wrappedPoolsStopTasksThatNeverCheck(int feature, String jdk) throws Exception {
        ChildJvm.Outcome out = ChildJvm.run(jdk, ChildJvm.withAgent(null), MAIN, "wrapped");
        assertThat(out.exitCode).as(out.toString()).isZero();
        assertThat(out.get("OK")).as(out.toString()).isNotNull();
        assertThat(out.get("INTRUSIVE")).as(out.toString()).isEqualTo("true");
        assertThat(out.get("NEXT_AFTER_CANCEL")).as(out.toString()).isEqualTo("OK");
        assertThat(out.get("INVOKE_ALL")).as(out.toString()).isEqualTo("true 7");
        assertThat(out.get("NEXT_AFTER_INVOKE_ALL")).as(out.toString()).isEqualTo("OK");
        assertThat(out.get("OR_TIMEOUT")).as(out.toString()).startsWith("failed with java.util.concurrent.TimeoutException");
        assertThat(out.get("NEXT_AFTER_OR_TIMEOUT")).as(out.toString()).isEqualTo("OK");
        assertThat(out.get("TERMINATED")).as(out.toString()).isEqualTo("true");
        assertThat(out.stderr).as(out.toString()).doesNotContain("Exception in thread");
    }

    /** executors=intrusive: the same unwrapped pool and CompletableFuture, no code change, stop. */
    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void executorsIntrusiveStopsPlainPools(int feature, String jdk) throws Exception {
        ChildJvm.Outcome out = ChildJvm.run(jdk, ChildJvm.withAgent("executors=intrusive"), MAIN, "plain");
        assertThat(out.exitCode).as(out.toString()).isZero();
        assertThat(out.get("OK")).as(out.toString()).isNotNull();
        assertThat(out.get("STOPPED")).as(out.toString()).isNotNull();
        assertThat(out.get("NEXT_TASK")).as(out.toString()).isEqualTo("OK");
        assertThat(out.get("OR_TIMEOUT")).as(out.toString()).startsWith("failed with java.util.concurrent.TimeoutException");
        assertThat(out.get("NEXT_AFTER_OR_TIMEOUT")).as(out.toString()).isEqualTo("OK");
        assertThat(out.stderr).as(out.toString()).doesNotContain("do not follow cancellation")
                .doesNotContain("Exception in thread");
    }

    /** The control: an unwrapped pool's cancel(true) only interrupts, and burn never looks. */
    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("jdks")
    void plainPoolsOnlyInterruptByDefault(int feature, String jdk) throws Exception {
        ChildJvm.Outcome out = ChildJvm.run(jdk, ChildJvm.withAgent(null), MAIN, "plain", "expect=busy");
        assertThat(out.exitCode).as(out.toString()).isZero();
        assertThat(Integer.parseInt(out.get("STILL_BURNING"))).as(out.toString()).isEqualTo(2);
    }
}
