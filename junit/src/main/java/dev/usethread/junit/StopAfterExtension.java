package dev.usethread.junit;

import dev.usethread.Cancellation;
import dev.usethread.DeadlineExceededException;
import dev.usethread.internal.StuckThreads;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Method;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;
import org.junit.platform.commons.support.AnnotationSupport;
import org.opentest4j.AssertionFailedError;

/** Runs each {@link StopAfter} test under {@link Cancellation#withTimeout} on its own thread. */
public final class StopAfterExtension implements InvocationInterceptor {
    private static final Pattern SIMPLE = Pattern.compile("\\s*(\\d+(?:\\.\\d+)?)\\s*(ns|us|ms|s|m|h|d)\\s*");

    /** Created by JUnit for {@link StopAfter} (through {@code @ExtendWith}); not called directly. */
    public StopAfterExtension() {
    }

    @Override
    public void interceptTestMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> method,
            ExtensionContext context) throws Throwable {
        intercept(invocation, method.getExecutable(), context);
    }

    @Override
    public void interceptTestTemplateMethod(Invocation<Void> invocation,
            ReflectiveInvocationContext<Method> method, ExtensionContext context) throws Throwable {
        intercept(invocation, method.getExecutable(), context);
    }

    private static void intercept(Invocation<Void> invocation, Method method, ExtensionContext context)
            throws Throwable {
        Optional<StopAfter> annotation = find(method);
        if (annotation.isEmpty()) {
            annotation = context.getTestClass().flatMap(StopAfterExtension::find);
        }
        if (annotation.isEmpty()) {
            invocation.proceed();
            return;
        }
        String text = annotation.get().value();
        Duration limit = parse(text);
        String test = context.getRequiredTestClass().getName() + " > " + context.getDisplayName();
        // A test that nothing can stop (no agent, unwoven JDK code) hangs: say so once on standard error.
        Consumer<String> previous = StuckThreads.reportDeadlinesTo(why -> System.err.print(
                "[usethread] test " + test + " passed its limit @StopAfter(\"" + text + "\") and cannot be stopped:"
                + System.lineSeparator() + "[usethread]   " + why + System.lineSeparator()));
        long start = System.nanoTime();
        try {
            Cancellation.withTimeout(limit, () -> {
                try {
                    return invocation.proceed();
                } catch (Exception | Error e) {
                    throw e;
                } catch (Throwable t) {
                    throw new WrappedThrowable(t);
                }
            });
        } catch (WrappedThrowable w) {
            throw w.getCause();
        } catch (DeadlineExceededException e) {
            throw new AssertionFailedError(message(text, e), e.getCause());
        } finally {
            StuckThreads.reportDeadlinesTo(previous);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        if (took.compareTo(limit) > 0) {
            throw new AssertionFailedError("test took " + took + ", longer than its limit @StopAfter(\"" + text
                    + "\"); it ended by itself" + (Cancellation.isIntrusive() ? "" : cooperativeNote()));
        }
    }

    private static String message(String text, DeadlineExceededException e) {
        StackTraceElement at = e.stoppedAt();
        return "test stopped after its limit @StopAfter(\"" + text + "\") at " + (at == null ? "an unknown frame" : at)
                + (Cancellation.isIntrusive() ? "" : cooperativeNote());
    }

    private static String cooperativeNote() {
        return " (the usethread agent is not installed: only cooperative stopping is possible, at"
                + " Cancellation.checkpoint() and interrupts of sleep/wait/park; add"
                + " -javaagent:usethread-agent.jar to stop code that never checks)";
    }

    private static Optional<StopAfter> find(AnnotatedElement element) {
        return AnnotationSupport.findAnnotation(element, StopAfter.class);
    }

    /** Parses "500ms", "2s", "1.5s", "3m", "1h", "1d" or ISO-8601 "PT2S"; positive only. */
    static Duration parse(String text) {
        Duration d;
        Matcher m = SIMPLE.matcher(text == null ? "" : text);
        try {
            if (m.matches()) {
                BigDecimal amount = new BigDecimal(m.group(1));
                long nanosPerUnit;
                switch (m.group(2)) {
                    case "ns": nanosPerUnit = 1L; break;
                    case "us": nanosPerUnit = 1_000L; break;
                    case "ms": nanosPerUnit = 1_000_000L; break;
                    case "s": nanosPerUnit = 1_000_000_000L; break;
                    case "m": nanosPerUnit = 60_000_000_000L; break;
                    case "h": nanosPerUnit = 3_600_000_000_000L; break;
                    default: nanosPerUnit = 86_400_000_000_000L;
                }
                d = Duration.ofNanos(amount.multiply(BigDecimal.valueOf(nanosPerUnit)).longValueExact());
            } else {
                d = Duration.parse(text.trim());
            }
        } catch (DateTimeParseException | ArithmeticException | NullPointerException e) {
            throw new ExtensionConfigurationException("@StopAfter(\"" + text + "\") is not a time limit: use a"
                    + " positive number and unit (500ms, 2s, 1.5s, 3m, 1h, 1d) or ISO-8601 (PT2S)", e);
        }
        if (d.isNegative() || d.isZero()) {
            throw new ExtensionConfigurationException("@StopAfter(\"" + text + "\") must be positive");
        }
        return d;
    }

    /** Carries a non-Exception, non-Error Throwable through withTimeout's body. */
    private static final class WrappedThrowable extends Exception {
        private static final long serialVersionUID = 1L;

        WrappedThrowable(Throwable cause) {
            super(cause);
        }
    }
}
