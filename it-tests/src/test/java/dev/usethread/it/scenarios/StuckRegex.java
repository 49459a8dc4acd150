package dev.usethread.it.scenarios;

import dev.usethread.Cancellation;
import dev.usethread.UseThread;
import java.nio.CharBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * A catastrophic regex in a job and in a deadline, run with the agent but without
 * jdk=java.util.regex: nothing can stop it, so await, close and the deadline must say where it is
 * and what would stop it. The regex runs over a char array that this program then fills with 'z'
 * (every branch fails at once), so it ends after the checks.
 */
public final class StuckRegex {
    private static final Pattern EVIL = Pattern.compile("((x+)\\2?)+y");

    public static void main(String[] args) throws Exception {
        Harness.report("INTRUSIVE", String.valueOf(Cancellation.isIntrusive()));
        char[] text = "x".repeat(48).toCharArray();
        UseThread<Object> job = UseThread.options().name("regex").closeTimeout(Duration.ofMillis(500))
                .useThread(Harness.wrap(() -> EVIL.matcher(CharBuffer.wrap(text)).matches()));
        Harness.awaitInside(Harness.inClass("java.util.regex.Pattern$"));
        job.cancel();
        try {
            Harness.report("AWAIT", String.valueOf(job.await(Duration.ofMillis(500))));
        } catch (TimeoutException e) {
            Harness.report("AWAIT_MESSAGE", e.getMessage());
        }
        try {
            job.close();
            Harness.report("CLOSE", "stopped");
        } catch (IllegalStateException e) {
            Harness.report("CLOSE_MESSAGE", e.getMessage());
        }
        Arrays.fill(text, 'z');
        Harness.report("JOB_FINAL", String.valueOf(job.await(Harness.BOUND).state()));

        // A deadline around the same regex on this thread: its timer logs once where the body is.
        char[] text2 = "x".repeat(48).toCharArray();
        CountDownLatch logged = new CountDownLatch(1);
        Logger.getLogger("").addHandler(new Handler() { // the root logger also receives system loggers
            @Override
            public void publish(LogRecord r) {
                if (r.getMessage() != null && r.getMessage().startsWith("deadline of")) {
                    Harness.report("DEADLINE_LOG", r.getLevel() + " " + r.getMessage());
                    logged.countDown();
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
        Thread releaser = new Thread(() -> {
            try {
                if (!logged.await(Harness.BOUND.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)) {
                    Harness.report("DEADLINE_LOG", "(none within " + Harness.BOUND + ")");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Arrays.fill(text2, 'z');
        }, "releaser");
        releaser.start();
        boolean matched = Cancellation.withTimeout(Duration.ofMillis(200),
                () -> EVIL.matcher(CharBuffer.wrap(text2)).matches());
        Harness.report("DEADLINE_VALUE", String.valueOf(matched));
        Harness.ok();
    }
}
