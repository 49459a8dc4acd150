package dev.usethread;

import dev.usethread.internal.CancelScope;
import dev.usethread.internal.Inheritance;
import dev.usethread.internal.Events;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The timer and bookkeeping behind {@link Cancellation#withTimeout}. */
final class Deadlines {
    /** One daemon timer thread, started on demand and gone after 10 s without deadlines. */
    private static final ScheduledThreadPoolExecutor TIMER = createTimer();

    private Deadlines() {
    }

    private static ScheduledThreadPoolExecutor createTimer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, task -> {
            Thread t = new Thread(task, "usethread-deadlines");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        timer.setKeepAliveTime(10, TimeUnit.SECONDS);
        timer.allowCoreThreadTimeOut(true);
        return timer;
    }

    static <T, X extends Exception> T run(Duration timeout, Cancellation.Body<T, X> body)
            throws TimeoutException, X {
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(body, "body");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        long nanos;
        try {
            nanos = timeout.toNanos();
        } catch (ArithmeticException e) {
            nanos = Long.MAX_VALUE / 2;
        }
        CancelScope scope = new CancelScope("deadline of " + timeout, true);
        scope.enter();
        // The timer task is ours, not the body's: it must not inherit the scope it cancels.
        long delay = nanos;
        ScheduledFuture<?> timer = Inheritance.detached(() -> TIMER.schedule(scope::cancel, delay, TimeUnit.NANOSECONDS));
        try {
            return body.run();
        } catch (Throwable t) {
            if (scope.isSet() && !scope.enclosingScopeCancelled()) {
                // Ours: the signal where the body was first stopped, or what it made of our interrupt.
                Throwable cause = scope.firstSignal() != null ? scope.firstSignal() : t;
                Events.cancelled("deadline", "deadline of " + timeout, scope.cancelRequestedNanos(), cause);
                TimeoutException timeoutException = new TimeoutException("deadline of " + timeout
                        + " passed; the body was stopped at " + stoppedAt(cause));
                timeoutException.initCause(cause);
                throw timeoutException;
            }
            throw t;
        } finally {
            timer.cancel(false);
            scope.exit();
        }
    }

    /** The first frame of {@code t} outside usethread's own classes: where the body was. */
    static String stoppedAt(Throwable t) {
        for (StackTraceElement frame : t.getStackTrace()) {
            String c = frame.getClassName();
            if (!c.startsWith("dev.usethread.internal.") && !c.equals(Cancellation.class.getName())
                    && !c.equals(Deadlines.class.getName())) {
                return frame.toString();
            }
        }
        return "an unknown frame";
    }
}
