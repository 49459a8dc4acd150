package dev.usethread.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Stops a test (or every test of a class) when its time limit passes, on the test's own thread:
 * {@code ThreadLocal} state (transactions, MDC, security contexts) keeps working, and no thread is
 * left running afterwards. With the usethread agent the test is stopped wherever it is; without it,
 * only at cooperative points (checkpoints, interrupts of sleep/wait/park).
 *
 * <p>The limit is a number and a unit ({@code "500ms"}, {@code "2s"}, {@code "1.5s"}, {@code "3m"},
 * {@code "1h"}) or an ISO-8601 duration ({@code "PT2S"}); it must be positive. The failure names the
 * limit and its cause's stack shows where the test was stopped. A test that nothing can stop (a
 * loop that never checks, without the agent; unwoven JDK code) keeps running: one second after its
 * limit, a two-line block on standard error names the test and says where it is stuck and why.
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@ExtendWith(StopAfterExtension.class)
public @interface StopAfter {
    /**
     * The time limit, for example {@code "2s"}.
     *
     * @return the time limit
     */
    String value();
}
