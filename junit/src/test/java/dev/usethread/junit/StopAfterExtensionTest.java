package dev.usethread.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import dev.usethread.CancelledSignal;
import dev.usethread.junit.fixtures.ClassLevelCases;
import dev.usethread.junit.fixtures.RunawayCases;
import dev.usethread.junit.fixtures.UncheckedLoopCases;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;
import org.opentest4j.AssertionFailedError;

/** Runs real runaway tests through the JUnit Platform test kit. */
class StopAfterExtensionTest {

    private static Events run(String method) {
        return EngineTestKit.engine("junit-jupiter").selectors(selectMethod(RunawayCases.class, method)).execute()
                .testEvents();
    }

    private static Throwable failure(Events events) {
        Event failed = events.failed().list().get(0);
        return failed.getPayload(org.junit.platform.engine.TestExecutionResult.class).orElseThrow()
                .getThrowable().orElseThrow();
    }

    /** Threads still running a fixture's code (assertTimeoutPreemptively would leave one). */
    private static Set<Thread> threadsRunningFixtures() {
        return Thread.getAllStackTraces().entrySet().stream()
                .filter(e -> java.util.Arrays.stream(e.getValue())
                        .anyMatch(f -> f.getClassName().startsWith("dev.usethread.junit.fixtures.")))
                .map(java.util.Map.Entry::getKey).collect(Collectors.toSet());
    }

    @Test
    void aRunawayLoopIsStoppedOnItsOwnThreadAndTheFailureNamesTheLimitAndWhere() {
        Thread self = Thread.currentThread();
        Events events = run("loopsForever");
        events.assertStatistics(s -> s.started(1).failed(1));
        Throwable t = failure(events);
        assertThat(t).isInstanceOf(AssertionFailedError.class)
                .hasMessageContaining("@StopAfter(\"200ms\")")
                .hasMessageContaining("RunawayCases.loopsForever")
                .hasMessageContaining("only cooperative stopping is possible")
                .hasCauseInstanceOf(CancelledSignal.class);
        StackTraceElement[] where = t.getCause().getStackTrace();
        assertThat(where[0].getClassName()).as("the stack starts where the test was stopped")
                .doesNotStartWith("dev.usethread.internal");
        assertThat(where[0] + " " + where[1]).contains("RunawayCases.loopsForever");
        assertThat(RunawayCases.testThread).as("the test ran on the engine's own thread").isSameAs(self);
        assertThat(RunawayCases.seenInTest).as("ThreadLocal state set in @BeforeEach").isEqualTo("tx-1");
        assertThat(RunawayCases.seenInAfterEach).as("ThreadLocal state still there in @AfterEach")
                .isEqualTo("tx-1");
        assertThat(threadsRunningFixtures()).as("no thread left running the test").isEmpty();
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    @Test
    void withoutTheAgentALoopThatNeverChecksIsReportedOnceOnStandardError() throws Exception {
        UncheckedLoopCases.released = false;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        java.io.PrintStream originalErr = System.err;
        // The fixture spins until the report is complete; only the deadline timer writes here meanwhile.
        System.setErr(new java.io.PrintStream(captured, true, "UTF-8") {
            @Override
            public void write(byte[] b, int off, int len) {
                super.write(b, off, len);
                String text = new String(captured.toByteArray(), java.nio.charset.StandardCharsets.UTF_8);
                if (text.contains("[usethread]   ") && text.endsWith(System.lineSeparator())) {
                    UncheckedLoopCases.released = true;
                }
            }
        });
        Events events;
        try {
            events = EngineTestKit.engine("junit-jupiter").selectors(selectClass(UncheckedLoopCases.class))
                    .execute().testEvents();
        } finally {
            System.setErr(originalErr);
            UncheckedLoopCases.released = true;
        }
        String err = new String(captured.toByteArray(), java.nio.charset.StandardCharsets.UTF_8);
        String nl = System.lineSeparator();
        assertThat(err).startsWith("[usethread] test " + UncheckedLoopCases.class.getName()
                + " > spinsWithoutChecking() passed its limit @StopAfter(\"200ms\") and cannot be stopped:" + nl
                + "[usethread]   deadline of PT0.2S passed more than PT1S ago and the body has not stopped: thread ")
                .contains("is running " + UncheckedLoopCases.class.getName() + ".spinsWithoutChecking(",
                        "the usethread agent is not installed")
                .endsWith(nl);
        assertThat(err.split("\\[usethread\\] test ", -1)).as("written once").hasSize(2);
        assertThat(failure(events)).isInstanceOf(AssertionFailedError.class)
                .hasMessageContaining("longer than its limit @StopAfter(\"200ms\"); it ended by itself");
    }

    @Test
    void aSleepingTestIsWokenAndFailsWithTheLimit() {
        Events events = run("sleepsForAnHour");
        events.assertStatistics(s -> s.failed(1));
        assertThat(failure(events)).isInstanceOf(AssertionFailedError.class)
                .hasMessageContaining("@StopAfter(\"0.2s\")").hasCauseInstanceOf(InterruptedException.class);
    }

    @Test
    void aTestThatEndsInTimePasses() {
        run("finishesInTime").assertStatistics(s -> s.succeeded(1));
        assertThat(RunawayCases.seenInTest).isEqualTo("tx-1");
    }

    @Test
    void anOrdinaryFailurePassesThroughUnchanged() {
        Events events = run("failsOnItsOwn");
        assertThat(failure(events)).isInstanceOf(IllegalStateException.class)
                .hasMessage("an ordinary failure passes through");
    }

    @Test
    void unparsableAndNegativeLimitsAreClearErrorsNamingTheValue() {
        assertThat(failure(run("hasAnUnparsableLimit"))).isInstanceOf(ExtensionConfigurationException.class)
                .hasMessageContaining("@StopAfter(\"soon\") is not a time limit");
        assertThat(failure(run("hasANegativeLimit"))).isInstanceOf(ExtensionConfigurationException.class)
                .hasMessageContaining("@StopAfter(\"-1s\")");
    }

    @Test
    void aClassLevelLimitAppliesToEveryTest() {
        EngineTestKit.engine("junit-jupiter").selectors(selectClass(ClassLevelCases.class)).execute().testEvents()
                .assertStatistics(s -> s.started(2).succeeded(1).failed(1));
    }

    @Test
    void limitsParse() {
        assertThat(StopAfterExtension.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(StopAfterExtension.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
        assertThat(StopAfterExtension.parse(" 3m ")).isEqualTo(Duration.ofMinutes(3));
        assertThat(StopAfterExtension.parse("PT2S")).isEqualTo(Duration.ofSeconds(2));
        assertThatThrownBy(() -> StopAfterExtension.parse("0s")).hasMessageContaining("must be positive");
        assertThatThrownBy(() -> StopAfterExtension.parse("2 seconds")).hasMessageContaining("\"2 seconds\"");
    }
}
