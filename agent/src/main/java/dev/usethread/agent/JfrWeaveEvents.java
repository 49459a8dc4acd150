package dev.usethread.agent;

import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;

/**
 * Emits the runtime's {@code dev.usethread.Weave} JFR event only once JFR runs. Loading a JFR event
 * class initializes JFR's metadata (about 200 ms), too much to pay at every start-up; and an event
 * class first loaded inside a transformer is not instrumented by JFR (no events on JDK 17). So the
 * event class is loaded when the recorder initializes, outside any transform, and not before.
 */
final class JfrWeaveEvents {
    static volatile boolean ready;

    private JfrWeaveEvents() {
    }

    static void enableWhenJfrRuns() {
        try {
            if (FlightRecorder.isInitialized()) {
                load();
                return;
            }
            FlightRecorder.addListener(new FlightRecorderListener() {
                @Override
                public void recorderInitialized(FlightRecorder recorder) {
                    load();
                }
            });
        } catch (Throwable noJfr) {
            // a runtime image without jdk.jfr: no events
        }
    }

    private static void load() {
        try {
            Class.forName("dev.usethread.internal.Events$WeaveEvent", true, JfrWeaveEvents.class.getClassLoader());
            ready = true;
        } catch (Throwable t) {
            // no events
        }
    }
}
