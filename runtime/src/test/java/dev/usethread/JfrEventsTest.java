package dev.usethread;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads a real JFR recording and checks usethread's cancellation events. */
class JfrEventsTest {

    static void spinUntilCancelled(CountDownLatch started) {
        started.countDown();
        while (true) {
            Cancellation.checkpoint();
        }
    }

    @Test
    void cancellationsOfJobsAndDeadlinesAreRecorded(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("usethread.jfr");
        try (Recording recording = new Recording()) {
            recording.enable("dev.usethread.Cancelled");
            recording.start();

            CountDownLatch started = new CountDownLatch(1);
            UseThread<String> job = UseThread.options().name("jfr-job").useThread(() -> {
                spinUntilCancelled(started);
                return "never";
            });
            started.await();
            job.cancel();
            assertThat(job.await(Recorder.LIVENESS).state()).isEqualTo(ResultState.CANCELLED);
            job.close();
            try {
                Cancellation.withTimeout(Duration.ofMillis(20), () -> {
                    spinUntilCancelled(new CountDownLatch(1));
                    return null;
                });
            } catch (TimeoutException expected) {
                // recorded as a deadline event
            }
            recording.stop();
            recording.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals("dev.usethread.Cancelled"))
                .collect(Collectors.toList());
        assertThat(events).hasSize(2);
        RecordedEvent jobEvent = events.stream().filter(e -> "job".equals(e.getString("kind"))).findFirst()
                .orElseThrow();
        assertThat(jobEvent.getString("name")).isEqualTo("jfr-job run 1");
        assertThat(jobEvent.getThread("stoppedThread").getJavaName()).startsWith("usethread-jfr-job-");
        assertThat(jobEvent.getDuration("timeToStop")).isPositive().isLessThan(Recorder.LIVENESS);
        assertThat(jobEvent.getString("stoppedAt")).contains("Cancellation.checkpoint");
        RecordedEvent deadline = events.stream().filter(e -> "deadline".equals(e.getString("kind"))).findFirst()
                .orElseThrow();
        assertThat(deadline.getString("name")).isEqualTo("deadline of PT0.02S");
        assertThat(deadline.getThread("stoppedThread").getJavaName()).isEqualTo(Thread.currentThread().getName());
        assertThat(Files.size(file)).isPositive();
    }
}
