package dev.usethread.it.scenarios;

import dev.usethread.Cancellation;
import dev.usethread.CancelledSignal;
import dev.usethread.Result;
import dev.usethread.ResultState;
import dev.usethread.Task;
import dev.usethread.UseThread;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

/**
 * The common shape of a scenario, run in a child JVM: start a job, wait until its thread is inside
 * the code under test (seen in its stack), cancel, expect CANCELLED within a generous bound, retry
 * and do it again, and check that a bystander thread kept working. Prints a line protocol on stdout
 * ({@code KEY value}); the JUnit side asserts on it. Exits 0 after {@code OK}, 1 after {@code FAIL}.
 */
public final class Harness {
    /** Liveness bound, not a speed target: the machine is shared and may be slow. */
    static final Duration BOUND = Duration.ofSeconds(30);

    private static final AtomicReference<Thread> jobThread = new AtomicReference<>();
    /**
     * The first signal seen in the job. Code with a {@code finally} that calls woven code records it
     * in a catch first: the sticky cancellation throws a new signal from the finally.
     */
    public static volatile Throwable firstSignal;
    private static volatile long bystanderCount;

    private Harness() {
    }

    /**
     * Runs the standard scenario. {@code inside} recognises a stack frame of the code under test, so
     * the cancel lands while the job is really there.
     */
    public static void run(String name, Task<?> body, Predicate<StackTraceElement> inside) {
        run(name, body, inside, null);
    }

    public static void run(String name, Task<?> body, Predicate<StackTraceElement> inside, ThreadFactory factory) {
        try {
            report("INTRUSIVE", String.valueOf(Cancellation.isIntrusive()));
            report("RUNTIME_LOADER", String.valueOf(UseThread.class.getClassLoader()));
            Thread bystander = startBystander();
            UseThread.Options options = UseThread.options().name(name);
            if (factory != null) {
                options.threadFactory(factory);
            }
            UseThread<Object> job = options.useThread(wrap(body));
            for (int attempt = 1; attempt <= 2; attempt++) {
                awaitInside(inside);
                report("JOB_THREAD_VIRTUAL", String.valueOf(isVirtual(jobThread.get())));
                long before = bystanderCount;
                long t0 = System.nanoTime();
                job.cancel();
                Result<Object> result = awaitEnd(job);
                report("ATTEMPT" + attempt, result.state() + " in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
                report("THROWN_AT", takeThrownAt());
                if (result.state() != ResultState.CANCELLED) {
                    fail("attempt " + attempt + " ended " + result);
                }
                awaitProgress(before);
                if (attempt == 1) {
                    jobThread.set(null);
                    job.retry();
                }
            }
            if (!bystander.isAlive() || bystander.isInterrupted()) {
                fail("bystander thread was disturbed");
            }
            report("BYSTANDER", "OK");
            ok();
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            fail("scenario threw " + t);
        }
    }

    static Task<Object> wrap(Task<?> body) {
        return () -> {
            jobThread.set(Thread.currentThread());
            try {
                return body.call();
            } catch (Throwable t) {
                // The signal itself, or a library's exception that wraps it (Groovy, reflection):
                // the unwinding rule lets a library's handler wrap the signal and rethrow.
                for (Throwable c = t; c != null; c = c.getCause()) {
                    if (c instanceof CancelledSignal) {
                        if (firstSignal == null) {
                            firstSignal = c;
                        }
                        break;
                    }
                }
                throw t;
            }
        };
    }

    /** The frame that called the poll: the first one outside the runtime. */
    static String pollSite(Throwable s) {
        for (StackTraceElement e : s.getStackTrace()) {
            if (!e.getClassName().startsWith("dev.usethread.internal.")) {
                return e.getClassName() + "." + e.getMethodName();
            }
        }
        return "unknown";
    }

    static void awaitInside(Predicate<StackTraceElement> inside) throws InterruptedException {
        long deadline = System.nanoTime() + BOUND.toNanos();
        while (System.nanoTime() < deadline) {
            Thread t = jobThread.get();
            if (t != null && Arrays.stream(t.getStackTrace()).anyMatch(inside)) {
                return;
            }
            Thread.sleep(5);
        }
        Thread t = jobThread.get();
        fail("job never got inside the code under test; its stack: "
                + (t == null ? "(not started)" : Arrays.toString(t.getStackTrace())));
    }

    static String takeThrownAt() {
        Throwable s = firstSignal;
        firstSignal = null;
        if (s != null && System.getProperty("usethread.it.trace") != null) {
            s.printStackTrace(System.out);
        }
        return s == null ? "(no signal reached the job's body)" : pollSite(s);
    }

    static Result<Object> awaitEnd(UseThread<Object> job) throws InterruptedException {
        try {
            return job.await(BOUND);
        } catch (TimeoutException e) {
            Thread t = jobThread.get();
            fail("not stopped within " + BOUND + ": " + e.getMessage() + "; job stack: "
                    + (t == null ? "?" : Arrays.toString(t.getStackTrace())));
            return null;
        }
    }

    private static Thread startBystander() {
        // Woven code too (this class is application code): it must keep running, never be signalled.
        Thread t = new Thread(() -> {
            while (true) {
                bystanderCount++;
                if ((bystanderCount & 0xFFFF) == 0) {
                    Thread.yield();
                }
            }
        }, "bystander");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void awaitProgress(long before) throws InterruptedException {
        long deadline = System.nanoTime() + BOUND.toNanos();
        while (bystanderCount == before) {
            if (System.nanoTime() > deadline) {
                fail("bystander made no progress");
            }
            Thread.sleep(5);
        }
    }

    static boolean isVirtual(Thread t) {
        try {
            return t != null && (Boolean) Thread.class.getMethod("isVirtual").invoke(t);
        } catch (ReflectiveOperationException e) {
            return false; // JDK 17
        }
    }

    public static Predicate<StackTraceElement> inClass(String prefix) {
        return e -> e.getClassName().startsWith(prefix);
    }

    public static Predicate<StackTraceElement> inMethod(String className, String method) {
        return e -> e.getClassName().equals(className) && e.getMethodName().equals(method);
    }

    public static void report(String key, String value) {
        System.out.println(key + " " + value);
        System.out.flush();
    }

    public static void ok() {
        report("OK", "");
        System.exit(0);
    }

    public static void fail(String why) {
        report("FAIL", why);
        System.exit(1);
    }
}
