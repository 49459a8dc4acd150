package dev.usethread;

import dev.usethread.internal.CancelScope;
import dev.usethread.internal.Inheritance;
import dev.usethread.internal.Events;
import dev.usethread.internal.StuckThreads;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/** The timer and bookkeeping behind {@link Cancellation#withTimeout}. */
final class Deadlines {
    /** One daemon timer thread, started on demand and gone after 10 s without deadlines. */
    private static final ScheduledThreadPoolExecutor TIMER = createTimer();
    /**
     * How long after its deadline a body that has not stopped is reported, once: the body runs on
     * the caller's thread, so withTimeout cannot give up on it, only say where it is stuck.
     */
    static final Duration STUCK_REPORT_GRACE = Duration.ofSeconds(1);

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
            throws DeadlineExceededException, X {
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
        // The timer tasks are ours, not the body's: they must not inherit the scope they cancel.
        long delay = nanos;
        ScheduledFuture<?> timer = Inheritance.detached(() -> TIMER.schedule(scope::cancel, delay, TimeUnit.NANOSECONDS));
        AtomicBoolean ended = new AtomicBoolean();
        Thread bodyThread = Thread.currentThread();
        Consumer<String> reporter = StuckThreads.deadlineReporter();
        ScheduledFuture<?> stuckCheck = Inheritance.detached(() -> TIMER.schedule(
                () -> reportIfStuck(timeout, bodyThread, ended, reporter),
                delay + STUCK_REPORT_GRACE.toNanos(), TimeUnit.NANOSECONDS));
        try {
            return body.run();
        } catch (Throwable t) {
            if (scope.isSet() && !scope.enclosingScopeCancelled()) {
                // Ours: the signal where the body was first stopped, or what it made of our interrupt.
                Throwable cause = scope.firstSignal() != null ? scope.firstSignal() : t;
                Events.cancelled("deadline", "deadline of " + timeout, scope.cancelRequestedNanos(), cause);
                throw new DeadlineExceededException(timeout, stoppedAt(cause), cause);
            }
            throw t;
        } finally {
            ended.set(true);
            stuckCheck.cancel(false);
            timer.cancel(false);
            scope.exit();
        }
    }

    /** Says once (System.Logger, or the thread's reporter) where a body that outlived its deadline is. */
    private static void reportIfStuck(Duration timeout, Thread bodyThread, AtomicBoolean ended,
            Consumer<String> reporter) {
        if (ended.get()) {
            return;
        }
        String why = StuckThreads.explain(bodyThread);
        if (ended.get()) {
            return; // it stopped while we looked
        }
        String text = "deadline of " + timeout + " passed more than " + STUCK_REPORT_GRACE
                + " ago and the body has not stopped: " + why;
        if (reporter != null) {
            reporter.accept(text);
        } else {
            System.getLogger("dev.usethread").log(System.Logger.Level.WARNING, text);
        }
    }

    /** The first frame of {@code t} outside usethread's own classes: where the body was, or null. */
    static StackTraceElement stoppedAt(Throwable t) {
        for (StackTraceElement frame : t.getStackTrace()) {
            String c = frame.getClassName();
            if (!c.startsWith("dev.usethread.internal.") && !c.equals(Cancellation.class.getName())
                    && !c.equals(Deadlines.class.getName())) {
                return frame;
            }
        }
        return null;
    }
}
