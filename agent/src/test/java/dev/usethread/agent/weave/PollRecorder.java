package dev.usethread.agent.weave;

import java.util.ArrayList;
import java.util.List;

/**
 * Test double behind the {@code dev.usethread.internal.Poll} stub that {@link HookedLoader} defines
 * for woven test classes: records the hooks with their throwables and counts the polls. Tests run
 * the woven code on their own thread, one at a time.
 */
public final class PollRecorder {
    /** What a woven call reported: "caught" or "thrown" and the throwable. */
    public static final class Event {
        public final String kind;
        public final Throwable throwable;

        Event(String kind, Throwable throwable) {
            this.kind = kind;
            this.throwable = throwable;
        }

        @Override
        public String toString() {
            return kind + " " + throwable;
        }
    }

    /** Thrown by {@code poll()} while {@link #stopAtPoll} is set, as a cancelled job's poll would. */
    public static final class Stop extends Error {
        Stop() {
            super("stopped at a poll");
        }
    }

    static final List<Event> events = new ArrayList<>();
    static int polls;
    static int pollsInHandler;
    static boolean stopAtPoll;

    private PollRecorder() {
    }

    static void reset() {
        events.clear();
        polls = 0;
        pollsInHandler = 0;
        stopAtPoll = false;
    }

    public static void poll() {
        polls++;
        if (stopAtPoll) {
            throw new Stop();
        }
    }

    public static void pollInHandler() {
        pollsInHandler++;
    }

    public static void caught(Throwable t) {
        events.add(new Event("caught", t));
    }

    public static Throwable thrown(Throwable t) {
        events.add(new Event("thrown", t));
        return t;
    }
}
