package dev.usethread.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Weave events of classes woven after JFR started: the first such class starts the thread that
 * loads the event class, and its event, with those of the classes woven until then, is emitted once
 * the event class is loaded. This test's JVM touched no JFR before (the agent does not run here).
 */
class JfrWeaveEventsTest {
    @Test
    void classesWovenWhileTheEventClassLoadsAreRecorded(@TempDir Path dir) throws Exception {
        JfrWeaveEvents.emit("before/Jfr", 1, null); // JFR not started: nothing, and nothing loads
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals("usethread-agent-jfr"));
        Path file = dir.resolve("weave.jfr");
        try (Recording recording = new Recording()) {
            recording.enable("dev.usethread.Weave");
            recording.start();
            for (int i = 0; i < 50; i++) {
                JfrWeaveEvents.emit("com/acme/C" + i, i, i == 7 ? "a reason" : null);
            }
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (loaderRunning() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(loaderRunning()).as("event class loaded within a minute").isFalse();
            JfrWeaveEvents.emit("com/acme/After", 3, null);
            recording.stop();
            recording.dump(file);
        }
        List<String> seen = new ArrayList<>();
        for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
            if (e.getEventType().getName().equals("dev.usethread.Weave")) {
                seen.add(e.getString("className") + " " + e.getInt("polls") + " " + e.getString("skippedBecause"));
            }
        }
        assertThat(seen).hasSize(51).contains("com.acme.C0 0 null", "com.acme.C7 7 a reason", "com.acme.C49 49 null",
                "com.acme.After 3 null").doesNotContain("before.Jfr 1 null");
    }

    private static boolean loaderRunning() {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("usethread-agent-jfr")) {
                return true;
            }
        }
        return false;
    }
}
