package dev.usethread.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usethread.CancelledSignal;
import org.junit.jupiter.api.Test;

/**
 * A poll never throws while its thread runs a static initializer (the class would be unusable for
 * good); polls after the initializer do, within a millisecond. Checked with a short stack (the
 * signal's own trace shows the initializer) and a stack deeper than the JVM keeps in a trace (a full
 * walk). An initializer that polls a million times builds only a few stack traces to find out.
 */
class StaticInitializerTest {
    /** Polls in its initializer, as woven code called from an initializer does; records what happened. */
    static final class ShallowInit {
        static final int POLLS;

        static {
            POLLS = pollTimes(100);
        }
    }

    /** The same, 1,500 frames below the initializer: deeper than a stack trace (1,024 frames). */
    static final class DeepInit {
        static final int POLLS;

        static {
            POLLS = deep(1500);
        }

        static int deep(int depth) {
            return depth == 0 ? pollTimes(100) : deep(depth - 1);
        }
    }

    /** Polls a million times in its initializer. */
    static final class BusyInit {
        static final int POLLS;

        static {
            POLLS = pollTimes(1_000_000);
        }
    }

    static int pollTimes(int n) {
        for (int i = 0; i < n; i++) {
            Poll.poll();
            Poll.checkpoint();
        }
        return n;
    }

    @Test
    void shallowInitializer() {
        runCancelled(() -> ShallowInit.POLLS);
    }

    @Test
    void initializerDeeperThanAStackTrace() {
        runCancelled(() -> DeepInit.POLLS);
    }

    @Test
    void aBusyInitializerDoesNotBuildAStackTracePerPoll() {
        long before = ThreadState.current().protectedChecks;
        runCancelled(() -> BusyInit.POLLS, 1_000_000);
        long traces = ThreadState.current().protectedChecks - before;
        // One look per millisecond of initializer at most, not one per poll (2,000,000 polls).
        assertThat(traces).as("stack traces built").isLessThan(20_000);
    }

    private static void runCancelled(java.util.function.IntSupplier initialize) {
        runCancelled(initialize, 100);
    }

    private static void runCancelled(java.util.function.IntSupplier initialize, int polls) {
        CancelScope scope = new CancelScope("initializer test", true);
        scope.enter();
        try {
            scope.cancel();
            Thread.interrupted(); // the cancel interrupted this thread; not what is tested here
            assertThat(initialize.getAsInt()).as("the initializer ran to its end").isEqualTo(polls);
            assertThat(pollUntilSignal()).as("a poll after the initializer throws").isInstanceOf(CancelledSignal.class);
        } finally {
            scope.exit();
        }
    }

    /** Polls until one throws (at most a millisecond after an initializer, by design), for 10 s at most. */
    static Throwable pollUntilSignal() {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            try {
                Poll.poll();
            } catch (Throwable t) {
                return t;
            }
        }
        return null;
    }
}
