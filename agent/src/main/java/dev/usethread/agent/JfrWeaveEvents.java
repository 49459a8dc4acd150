package dev.usethread.agent;

import dev.usethread.internal.Events;
import java.util.ArrayList;
import java.util.List;

/**
 * Emits the runtime's {@code dev.usethread.Weave} JFR event only once JFR runs. Loading a JFR event
 * class initializes JFR's metadata (about 200 ms), too much to pay at every start-up; and an event
 * class first loaded inside a transformer is not instrumented by JFR (no events on JDK 17). So the
 * event class is loaded by a thread of its own once a woven class finds JFR initialized, and the
 * events of the classes woven until it is loaded are emitted then.
 *
 * <p>Nothing of JFR is touched at start-up: registering a {@code FlightRecorderListener} in premain
 * initialized JFR's support classes, about 25 ms of every JDK 17 start-up (1–3 ms on JDK 25).
 * {@code FlightRecorder.isInitialized()}, asked per woven class until the event class is loaded,
 * is a field read.
 */
final class JfrWeaveEvents {
    /** Events waiting for the event class beyond this many are dropped (a JVM loading a class a µs). */
    private static final int MAX_PENDING = 100_000;
    private static final Object LOCK = new Object();
    private static volatile boolean ready;
    /** No jdk.jfr module, or the event class could not be loaded: no events. */
    private static volatile boolean unavailable;
    /** Guarded by LOCK: events of classes woven after JFR started, before the event class was loaded. */
    private static List<Object[]> pending;

    private JfrWeaveEvents() {
    }

    /** The event for one woven or skipped class; free while no JFR runs. Never throws. */
    static void emit(String className, int polls, String skippedBecause) {
        if (!ready) {
            if (unavailable || !jfrStarted()) {
                return;
            }
            synchronized (LOCK) {
                if (!ready) {
                    if (pending == null) {
                        pending = new ArrayList<>();
                        startLoader();
                    }
                    if (pending.size() < MAX_PENDING) {
                        pending.add(new Object[] {className, polls, skippedBecause});
                    }
                    return;
                }
            }
        }
        try {
            Events.woven(className.replace('/', '.'), polls, skippedBecause);
        } catch (Throwable t) {
            // observability must never cost a class its weaving
        }
    }

    private static boolean jfrStarted() {
        try {
            return jdk.jfr.FlightRecorder.isInitialized();
        } catch (Throwable noJfr) { // a runtime image without jdk.jfr: no events
            unavailable = true;
            return false;
        }
    }

    /**
     * Not a daemon: a JVM whose main returns waits for it, so the events are in the recording before
     * JFR's shutdown hook writes it.
     */
    private static void startLoader() {
        try {
            Thread loader = new Thread(new Loader(), "usethread-agent-jfr");
            loader.setDaemon(false); // a daemon thread's new thread would be one too
            loader.start();
        } catch (Throwable t) { // say, a security manager that forbids it: no events
            unavailable = true;
            pending = new ArrayList<>(0);
        }
    }

    /** A class, not a lambda: no lambda bootstrap inside a transformer. */
    private static final class Loader implements Runnable {
        @Override
        public void run() {
            loadAndDrain();
        }
    }

    private static void loadAndDrain() {
        List<Object[]> drained;
        try {
            Class.forName("dev.usethread.internal.Events$WeaveEvent", true, JfrWeaveEvents.class.getClassLoader());
        } catch (Throwable t) {
            unavailable = true;
        }
        synchronized (LOCK) {
            drained = pending;
            pending = new ArrayList<>(0);
            ready = !unavailable;
        }
        if (!unavailable) {
            for (Object[] e : drained) {
                emit((String) e[0], (Integer) e[1], (String) e[2]);
            }
        }
    }
}
