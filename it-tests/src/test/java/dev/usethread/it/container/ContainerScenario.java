package dev.usethread.it.container;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.Iterators;
import dev.usethread.Cancellation;
import dev.usethread.Result;
import dev.usethread.ResultState;
import dev.usethread.Task;
import dev.usethread.UseThread;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The program the container tests run inside a JDK image: starts one {@code useThread} job, waits
 * until it is RUNNING inside its loop, calls {@code cancel()} and waits for CANCELLED.
 *
 * <p>Does that twice (the first cancellation in a JVM pays for class loading). Prints {@code ENV ...}
 * (what the JVM sees), then per job {@code CANCELLED after <ms> ms (first|second cancellation)}
 * (from {@code cancel()} to the CANCELLED state) and exits 0, or a {@code FAILED ...} line and a
 * non-zero code. Compiled to Java 17 bytecode, so JDK 21 APIs
 * (virtual threads) are reached reflectively.
 *
 * <p>Usage: {@code ContainerScenario <loop> <thread>} where loop is {@code checkpoint} (calls
 * {@link Cancellation#checkpoint()}, needs no agent), {@code app} (endless loop in this class, no
 * checks) or {@code library} (endless loop inside Guava), and thread is {@code platform} or
 * {@code virtual}.
 */
public final class ContainerScenario {
    static final Duration CANCEL_DEADLINE = Duration.ofSeconds(30);
    static final Duration START_DEADLINE = Duration.ofSeconds(60);

    /** Read after the loop only so that the JIT keeps the loop's work. */
    static volatile long sink;

    private ContainerScenario() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.out.println("FAILED usage, expected: <checkpoint|app|library> <platform|virtual>");
            System.exit(64);
        }
        String loop = args[0];
        String threadKind = args[1];
        Runtime runtime = Runtime.getRuntime();
        System.out.println("ENV java=" + Runtime.version() + " cpus=" + runtime.availableProcessors()
                + " maxHeapMiB=" + runtime.maxMemory() / (1024 * 1024) + " user=" + System.getProperty("user.name")
                + " intrusive=" + Cancellation.isIntrusive());

        // The first cancellation in a JVM also loads and links the classes of the cancel path; the
        // second shows the steady state. Both are reported.
        cancelOnce(loop, threadKind, "first");
        cancelOnce(loop, threadKind, "second");
        System.exit(0);
    }

    /** Starts a job, cancels it inside its loop and prints the time; exits the JVM on failure. */
    private static void cancelOnce(String loop, String threadKind, String round) throws Exception {
        CountDownLatch inLoop = new CountDownLatch(1);
        Task<Long> task = body(loop, inLoop);
        UseThread.Options options = UseThread.options().name(loop + "-" + threadKind + "-" + round);
        if (threadKind.equals("virtual")) {
            options.threadFactory(virtualThreadFactory());
        } else if (!threadKind.equals("platform")) {
            throw new IllegalArgumentException("unknown thread kind: " + threadKind);
        }

        AtomicLong cancelledAt = new AtomicLong();
        CountDownLatch cancelledSeen = new CountDownLatch(1);
        UseThread<Long> job = options.useThread(task);
        // The default listener executor is the thread that makes the change: the time is taken
        // when the CANCELLED snapshot is delivered, not when main wakes up from await().
        job.subscribe(result -> {
            if (result.state() == ResultState.CANCELLED && cancelledAt.compareAndSet(0, System.nanoTime())) {
                cancelledSeen.countDown();
            }
        });
        if (!inLoop.await(START_DEADLINE.toSeconds(), TimeUnit.SECONDS) || job.result().state() != ResultState.RUNNING) {
            System.out.println("FAILED " + round + " job: not running in its loop, state=" + job.result().state());
            System.exit(3);
        }

        long cancelCalled = System.nanoTime();
        job.cancel();
        Result<Long> result;
        try {
            result = job.await(CANCEL_DEADLINE);
        } catch (TimeoutException e) {
            System.out.println("FAILED " + round + " job: not cancelled within " + CANCEL_DEADLINE.toSeconds() + " s, state="
                    + job.result().state());
            System.exit(2);
            return;
        }
        if (result.state() != ResultState.CANCELLED) {
            System.out.println("FAILED " + round + " job: ended in state " + result.state() + " error=" + result.error());
            System.exit(1);
        }
        if (!cancelledSeen.await(CANCEL_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
            System.out.println("FAILED " + round + " job: CANCELLED snapshot never delivered to the subscriber");
            System.exit(4);
        }
        double millis = (cancelledAt.get() - cancelCalled) / 1e6;
        System.out.printf(Locale.ROOT, "CANCELLED after %.3f ms (%s cancellation)%n", millis, round);
    }

    private static Task<Long> body(String loop, CountDownLatch inLoop) {
        switch (loop) {
            case "checkpoint":
                return () -> {
                    inLoop.countDown();
                    long x = 0;
                    while (true) {
                        x = x * 31 + 7;
                        Cancellation.checkpoint();
                        if (x == 42) {
                            sink = x;
                        }
                    }
                };
            case "app":
                return () -> {
                    inLoop.countDown();
                    return endlessLoop();
                };
            case "library":
                return () -> {
                    inLoop.countDown();
                    // Iterators.size drains an endless cycling iterator: the loop and every call
                    // it makes are Guava's code, compiled without any notion of cancellation.
                    return (long) Iterators.size(Iterators.cycle(ImmutableList.of("a", "b", "c")));
                };
            default:
                throw new IllegalArgumentException("unknown loop: " + loop);
        }
    }

    /** Never returns on its own and never checks for cancellation or interrupts. */
    static long endlessLoop() {
        long x = 1;
        while (x != 0) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            if (x == 42) {
                sink = x;
            }
            x |= 1;
        }
        return x;
    }

    private static ThreadFactory virtualThreadFactory() throws ReflectiveOperationException {
        Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
        Class<?> builderType = Class.forName("java.lang.Thread$Builder");
        return (ThreadFactory) builderType.getMethod("factory").invoke(builder);
    }
}
