package dev.usethread.it;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * With the agent but without jdk=java.util.regex, a catastrophic regex cannot be stopped: await,
 * close and withTimeout say that the thread is in unwoven java.util.regex and that
 * jdk=java.util.regex would stop it. JDK 17 and 25.
 */
class StuckMessageTest {

    @ParameterizedTest(name = "JDK {0}")
    @MethodSource("dev.usethread.it.ScenarioTest#jdks")
    void aRegexWithoutJdkOptInSaysWhereAndWhichOption(int feature, String jdk) throws Exception {
        ChildJvm.Outcome out = ChildJvm.run(jdk, ChildJvm.withAgent(null), "dev.usethread.it.scenarios.StuckRegex");
        assertThat(out.exitCode).as(out.toString()).isZero();
        assertThat(out.get("OK")).as(out.toString()).isNotNull();
        assertThat(out.get("INTRUSIVE")).as(out.toString()).isEqualTo("true");
        String advice = "JDK code that the agent weaves only when opted in, so no poll reaches it; add jdk=java.util.regex to the"
                + " agent's options";
        assertThat(out.get("AWAIT_MESSAGE")).as(out.toString())
                .startsWith("usethread job 'regex' did not end within PT0.5S; it is RUNNING; run 1 was cancelled"
                        + " but has not stopped: thread ")
                .contains("is running java.util.regex.Pattern$", "(package java.util.regex)",
                        "called from dev.usethread.it.scenarios.StuckRegex.lambda$main$", advice)
                .doesNotContain("not installed");
        assertThat(out.get("CLOSE_MESSAGE")).as(out.toString())
                .startsWith("usethread job 'regex' did not stop within PT0.5S after cancellation: thread ")
                .contains("(package java.util.regex)", advice);
        assertThat(out.get("JOB_FINAL")).as(out.toString()).isEqualTo("CANCELLED");
        assertThat(out.get("DEADLINE_LOG")).as(out.toString())
                .startsWith("WARNING deadline of PT0.2S passed more than PT1S ago and the body has not stopped:"
                        + " thread main is running java.util.regex.Pattern$")
                .contains("(package java.util.regex)", advice);
        assertThat(out.get("DEADLINE_VALUE")).as(out.toString()).isEqualTo("false");
    }
}
