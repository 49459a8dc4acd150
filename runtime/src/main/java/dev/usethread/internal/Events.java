package dev.usethread.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Timespan;

/**
 * JFR events of usethread. Emitting is a no-op where the JVM has no {@code jdk.jfr} module (a
 * jlinked runtime without it) or no recording enables the event.
 */
public final class Events {
    private static final boolean JFR_AVAILABLE = jfrAvailable();

    private Events() {
    }

    private static boolean jfrAvailable() {
        try {
            Class.forName("jdk.jfr.Event", false, null);
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /**
     * True once JFR runs in this JVM. Event classes are touched only then: loading one starts JFR's
     * machinery, which would add hundreds of milliseconds to the first cancellation otherwise.
     */
    private static boolean recording() {
        return JFR_AVAILABLE && jdk.jfr.FlightRecorder.isInitialized();
    }

    /** A run or deadline stopped after cancellation; {@code requestedNanos} from System.nanoTime(). */
    public static void cancelled(String kind, String name, long requestedNanos, Throwable stoppedBy) {
        if (recording()) {
            CancelledEvent.emit(kind, name, requestedNanos, System.nanoTime(), stoppedBy);
        }
    }

    /**
     * Like {@link #cancelled}, measured now but committed later by {@link Pending#commit()}: a
     * caller holding a lock commits after releasing it (a JFR commit may write to disk).
     */
    public static Pending pendingCancelled(String kind, String name, long requestedNanos, Throwable stoppedBy) {
        return new Pending(kind, name, requestedNanos, System.nanoTime(), stoppedBy);
    }

    /** A cancellation event measured but not yet committed. */
    public static final class Pending {
        private final String kind;
        private final String name;
        private final long requestedNanos;
        private final long stoppedNanos;
        private final Throwable stoppedBy;

        private Pending(String kind, String name, long requestedNanos, long stoppedNanos, Throwable stoppedBy) {
            this.kind = kind;
            this.name = name;
            this.requestedNanos = requestedNanos;
            this.stoppedNanos = stoppedNanos;
            this.stoppedBy = stoppedBy;
        }

        public void commit() {
            if (recording()) {
                CancelledEvent.emit(kind, name, requestedNanos, stoppedNanos, stoppedBy);
            }
        }
    }

    /** The agent's weaving summary for one class. */
    public static void woven(String className, int polls, String skippedBecause) {
        if (recording()) {
            WeaveEvent.emit(className, polls, skippedBecause);
        }
    }

    @Name("dev.usethread.Cancelled")
    @Label("usethread Cancellation")
    @Category("usethread")
    @Description("A job run or deadline stopped after its cancellation was requested")
    static final class CancelledEvent extends Event {
        @Label("Kind")
        @Description("job or deadline")
        String kind;

        @Label("Name")
        String name;

        @Label("Stopped Thread")
        Thread stoppedThread;

        @Label("Time To Stop")
        @Description("From the cancellation request to the thread leaving the cancelled code")
        @Timespan(Timespan.NANOSECONDS)
        long timeToStop;

        @Label("Stopped At")
        @Description("The frame where the thread was stopped")
        String stoppedAt;

        static void emit(String kind, String name, long requestedNanos, long stoppedNanos, Throwable stoppedBy) {
            CancelledEvent e = new CancelledEvent();
            if (!e.isEnabled()) {
                return;
            }
            e.kind = kind;
            e.name = name;
            e.stoppedThread = Thread.currentThread();
            e.timeToStop = requestedNanos == 0 ? 0 : stoppedNanos - requestedNanos;
            StackTraceElement[] frames = stoppedBy == null ? new StackTraceElement[0] : stoppedBy.getStackTrace();
            e.stoppedAt = frames.length == 0 ? null : frames[0].toString();
            e.commit();
        }
    }

    @Name("dev.usethread.Weave")
    @Label("usethread Weave")
    @Category("usethread")
    @Description("The agent wove cancellation polls into a class, or left it as it was")
    static final class WeaveEvent extends Event {
        @Label("Class")
        String className;

        @Label("Polls")
        int polls;

        @Label("Skipped Because")
        String skippedBecause;

        static void emit(String className, int polls, String skippedBecause) {
            WeaveEvent e = new WeaveEvent();
            if (!e.isEnabled()) {
                return;
            }
            e.className = className;
            e.polls = polls;
            e.skippedBecause = skippedBecause;
            e.commit();
        }
    }
}
