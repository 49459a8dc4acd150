package dev.usethread;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.CharBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Phaser;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The README's uninterruptible waits, each with a real thread blocked in it (no agent here): the
 * cancelled job stays RUNNING, {@code await} and {@code close} say where it is and what would stop
 * it, and the suggested fix (an {@code onCancel} release, an interruptible variant) does stop it.
 */
class UninterruptibleWaitsTest {
    /** How long a stuck job is watched not ending: a bound for the negative check, not a speed. */
    private static final Duration STAYS = Duration.ofMillis(300);

    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final ThreadFactory recording = task -> {
        Thread t = new Thread(task, "waits-" + threads.size());
        t.setDaemon(true);
        threads.add(t);
        return t;
    };
    private final List<AutoCloseable> cleanup = new CopyOnWriteArrayList<>();

    @AfterEach
    void releaseEverything() throws Exception {
        for (AutoCloseable c : cleanup) {
            c.close();
        }
    }

    private <T> UseThread<T> start(String name, Job<T> job) {
        threads.clear();
        return UseThread.options().name(name).threadFactory(recording).closeTimeout(STAYS).useThread(job);
    }

    /** Waits until the job's thread is inside a frame matching {@code inside}. */
    private Thread awaitInside(Predicate<StackTraceElement> inside) throws InterruptedException {
        long deadline = System.nanoTime() + Recorder.LIVENESS.toNanos();
        while (System.nanoTime() < deadline) {
            if (!threads.isEmpty()) {
                Thread t = threads.get(threads.size() - 1);
                if (Arrays.stream(t.getStackTrace()).anyMatch(inside)) {
                    return t;
                }
            }
            Thread.sleep(5);
        }
        throw new AssertionError("the job's thread never got inside the wait: "
                + (threads.isEmpty() ? "(no thread)" : Arrays.toString(threads.get(0).getStackTrace())));
    }

    private static Predicate<StackTraceElement> frame(String className, String method) {
        return f -> f.getClassName().equals(className) && f.getMethodName().equals(method);
    }

    /** Cancels, checks the job stays RUNNING and returns await's message. */
    private static String cancelAndExpectStuck(UseThread<?> job) {
        job.cancel();
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> job.await(STAYS));
        assertThat(t).isInstanceOf(TimeoutException.class);
        assertThat(job.result().state()).isEqualTo(ResultState.RUNNING);
        assertThat(t.getMessage()).contains("it is RUNNING", "was cancelled but has not stopped");
        return t.getMessage();
    }

    private static void expectCancelled(UseThread<?> job) throws Exception {
        assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(ResultState.CANCELLED);
        job.close();
    }

    private static void cancelAndExpectCancelled(UseThread<?> job) throws Exception {
        job.cancel();
        expectCancelled(job);
    }

    @Test
    void completableFutureJoin() throws Exception {
        CompletableFuture<String> future = new CompletableFuture<>();
        UseThread<String> job = start("join", cancel -> future.join());
        awaitInside(frame("java.util.concurrent.CompletableFuture", "join"));
        assertThat(cancelAndExpectStuck(job)).contains("CompletableFuture.join(", "package java.util.concurrent",
                "UninterruptibleWaitsTest", "ignores interrupts", "complete or cancel the future from "
                        + "CancelEvent.onCancel(...)");
        future.complete("late");
        expectCancelled(job);

        CompletableFuture<String> fixed = new CompletableFuture<>();
        UseThread<String> withFix = start("join-fixed", cancel -> {
            cancel.onCancel(() -> fixed.cancel(false));
            return fixed.join();
        });
        awaitInside(frame("java.util.concurrent.CompletableFuture", "join"));
        cancelAndExpectCancelled(withFix);
    }

    @Test
    void phaserAwaitAdvance() throws Exception {
        Phaser phaser = new Phaser(2);
        UseThread<Integer> job = start("phaser", cancel -> phaser.awaitAdvance(phaser.arrive()));
        awaitInside(frame("java.util.concurrent.Phaser", "awaitAdvance"));
        assertThat(cancelAndExpectStuck(job)).contains("Phaser.awaitAdvance(", "forceTermination()");
        phaser.arrive();
        expectCancelled(job);

        Phaser fixed = new Phaser(2);
        UseThread<Integer> withFix = start("phaser-fixed", cancel -> {
            cancel.onCancel(fixed::forceTermination);
            return fixed.awaitAdvance(fixed.arrive());
        });
        awaitInside(frame("java.util.concurrent.Phaser", "awaitAdvance"));
        cancelAndExpectCancelled(withFix);
    }

    @Test
    void conditionAwaitUninterruptibly() throws Exception {
        ReentrantLock lock = new ReentrantLock();
        Condition condition = lock.newCondition();
        Runnable signal = () -> {
            lock.lock();
            try {
                condition.signalAll();
            } finally {
                lock.unlock();
            }
        };
        Job<String> waits = cancel -> {
            lock.lock();
            try {
                condition.awaitUninterruptibly();
                return "signalled";
            } finally {
                lock.unlock();
            }
        };
        Predicate<StackTraceElement> inside = f -> f.getMethodName().equals("awaitUninterruptibly");
        UseThread<String> job = start("condition", waits);
        awaitInside(inside);
        assertThat(cancelAndExpectStuck(job)).contains("ConditionObject.awaitUninterruptibly(",
                "package java.util.concurrent.locks", "signal the condition");
        signal.run();
        expectCancelled(job);

        UseThread<String> withFix = start("condition-fixed", cancel -> {
            cancel.onCancel(signal);
            return waits.run(cancel);
        });
        awaitInside(inside);
        cancelAndExpectCancelled(withFix);
    }

    @Test
    void reentrantLockLock() throws Exception {
        ReentrantLock lock = new ReentrantLock();
        lock.lock(); // held by this thread until the checks are done
        try {
            UseThread<String> job = start("lock", cancel -> {
                lock.lock();
                lock.unlock();
                return "locked";
            });
            awaitInside(f -> f.getClassName().startsWith("java.util.concurrent.locks.ReentrantLock")
                    && f.getMethodName().equals("lock"));
            assertThat(cancelAndExpectStuck(job)).contains("ReentrantLock", "lockInterruptibly()");
            lock.unlock();
            expectCancelled(job);
            lock.lock();

            UseThread<String> withFix = start("lock-fixed", cancel -> {
                lock.lockInterruptibly();
                lock.unlock();
                return "locked";
            });
            awaitInside(frame("java.util.concurrent.locks.ReentrantLock", "lockInterruptibly"));
            cancelAndExpectCancelled(withFix);
        } finally {
            if (lock.isHeldByCurrentThread()) {
                lock.unlock();
            }
        }
    }

    private static String enterMonitor(Object monitor) {
        synchronized (monitor) {
            return "entered";
        }
    }

    /** A thread that holds {@code monitor} until the returned latch is counted down. */
    private CountDownLatch holdMonitor(Object monitor) throws InterruptedException {
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = new Thread(() -> {
            synchronized (monitor) {
                holding.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }, "monitor-holder");
        holder.setDaemon(true);
        holder.start();
        holding.await();
        cleanup.add(release::countDown);
        return release;
    }

    @Test
    void synchronizedEntry() throws Exception {
        Object monitor = new Object();
        CountDownLatch release = holdMonitor(monitor);
        UseThread<String> job = start("monitor", cancel -> enterMonitor(monitor));
        Thread t = awaitInside(frame(UninterruptibleWaitsTest.class.getName(), "enterMonitor"));
        Recorder.awaitTrue("job thread BLOCKED", () -> t.getState() == Thread.State.BLOCKED);
        assertThat(cancelAndExpectStuck(job)).contains("blocked entering a synchronized block or method in "
                + UninterruptibleWaitsTest.class.getName() + ".enterMonitor(", "package dev.usethread",
                "make the thread that holds the monitor leave it");
        release.countDown();
        expectCancelled(job);

        Object fixedMonitor = new Object();
        CountDownLatch fixedRelease = holdMonitor(fixedMonitor);
        UseThread<String> withFix = start("monitor-fixed", cancel -> {
            cancel.onCancel(fixedRelease::countDown);
            return enterMonitor(fixedMonitor);
        });
        Thread t2 = awaitInside(frame(UninterruptibleWaitsTest.class.getName(), "enterMonitor"));
        Recorder.awaitTrue("job thread BLOCKED", () -> t2.getState() == Thread.State.BLOCKED);
        cancelAndExpectCancelled(withFix);
    }

    @Test
    void socketReadOnAPlatformThread() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                Socket client = new Socket(server.getInetAddress(), server.getLocalPort());
                Socket peer = server.accept()) {
            Predicate<StackTraceElement> reading = f -> f.getClassName().equals("sun.nio.ch.NioSocketImpl")
                    && f.getMethodName().equals("read");
            UseThread<Integer> job = start("socket", cancel -> client.getInputStream().read());
            awaitInside(reading);
            assertThat(cancelAndExpectStuck(job)).contains("NioSocketImpl.read(", "package sun.nio.ch",
                    "a socket read or accept", "close the socket from CancelEvent.onCancel(...)");
            peer.getOutputStream().write(1);
            expectCancelled(job);

            UseThread<Integer> withFix = start("socket-fixed", cancel -> {
                cancel.onCancel(() -> {
                    try {
                        client.close();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                return client.getInputStream().read();
            });
            awaitInside(reading);
            cancelAndExpectCancelled(withFix);
        }
    }

    @Test
    void pipeRead() throws Exception {
        Process cat = new ProcessBuilder("cat").start();
        cleanup.add(cat::destroyForcibly);
        InputStream out = cat.getInputStream();
        Predicate<StackTraceElement> reading = f -> f.getClassName().equals("java.io.FileInputStream")
                && f.getMethodName().startsWith("read");
        UseThread<Integer> job = start("pipe", cancel -> out.read());
        awaitInside(reading);
        assertThat(cancelAndExpectStuck(job)).contains("FileInputStream.read", "package java.io",
                "file or pipe I/O", "destroy() it");
        cat.getOutputStream().write('x');
        cat.getOutputStream().flush();
        expectCancelled(job);

        Process fixedCat = new ProcessBuilder("cat").start();
        cleanup.add(fixedCat::destroyForcibly);
        UseThread<Integer> withFix = start("pipe-fixed", cancel -> {
            cancel.onCancel(fixedCat::destroy);
            return fixedCat.getInputStream().read();
        });
        awaitInside(reading);
        cancelAndExpectCancelled(withFix);
    }

    /**
     * Catastrophic backtracking in unwoven java.util.regex, over a char array the test can change:
     * filling it with 'z' makes every branch fail at once, so the thread ends after the checks.
     */
    @Test
    void aCatastrophicRegexWithoutTheAgentNamesThePackageAndTheOption() throws Exception {
        char[] text = "x".repeat(48).toCharArray();
        cleanup.add(() -> Arrays.fill(text, 'z'));
        UseThread<Boolean> job = start("regex",
                cancel -> Pattern.compile("((x+)\\2?)+y").matcher(CharBuffer.wrap(text)).matches());
        awaitInside(f -> f.getClassName().startsWith("java.util.regex.Pattern$"));
        assertThatThrownBy(job::close).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("did not stop within " + STAYS + " after cancellation: thread waits-0 is running"
                        + " java.util.regex.Pattern")
                .hasMessageContaining("(package java.util.regex)")
                .hasMessageContaining("called from " + UninterruptibleWaitsTest.class.getName())
                .hasMessageContaining("the usethread agent is not installed")
                .hasMessageContaining("-javaagent:usethread-agent.jar=jdk=java.util.regex");
        assertThat(job.result().state()).isEqualTo(ResultState.RUNNING);
        Arrays.fill(text, 'z');
        expectCancelled(job);
    }

    private static volatile boolean stopSpinning;

    /** A loop that never checks, in a class no agent wove here: only the agent could stop it. */
    private static long spinUnchecked() {
        long i = 0;
        while (!stopSpinning) {
            i++;
        }
        return i;
    }

    @Test
    void aLoopThatNeverChecksSaysTheAgentIsNotInstalled() throws Exception {
        stopSpinning = false;
        cleanup.add(() -> stopSpinning = true);
        UseThread<Long> job = start("loop", cancel -> spinUnchecked());
        awaitInside(frame(UninterruptibleWaitsTest.class.getName(), "spinUnchecked"));
        assertThatThrownBy(job::close).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("thread waits-0 is running " + UninterruptibleWaitsTest.class.getName()
                        + ".spinUnchecked(UninterruptibleWaitsTest.java:")
                .hasMessageContaining("(package dev.usethread)")
                .hasMessageContaining("the usethread agent is not installed")
                .hasMessageContaining("call Cancellation.checkpoint() in that loop");
        stopSpinning = true;
        expectCancelled(job);

        // The suggested cooperative fix: a checkpoint in the loop.
        UseThread<Long> withFix = start("loop-fixed", cancel -> {
            long i = 0;
            while (true) {
                Cancellation.checkpoint();
                i++;
            }
        });
        awaitInside(f -> f.getMethodName().startsWith("lambda$"));
        cancelAndExpectCancelled(withFix);
    }

    @Test
    void awaitSaysNothingAboutAThreadWhenNoCancellationWasRequested() throws Exception {
        CompletableFuture<String> future = new CompletableFuture<>();
        UseThread<String> job = start("uncancelled", cancel -> future.join());
        awaitInside(frame("java.util.concurrent.CompletableFuture", "join"));
        assertThatThrownBy(() -> job.await(Duration.ofMillis(20))).isInstanceOf(TimeoutException.class)
                .hasMessage("usethread job 'uncancelled' did not end within PT0.02S; it is RUNNING");
        future.complete("done");
        assertThat(job.await(Recorder.LIVENESS).value()).isEqualTo("done");
        job.close();
    }
}
