package dev.usethread.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.usethread.CancelledSignal;
import org.junit.jupiter.api.Test;

/**
 * A poll never throws while its thread runs a static initializer (the class would be unusable for
 * good); the first poll after the initializer does. Checked with a short stack (the signal's own
 * trace shows the initializer) and a stack deeper than the JVM keeps in a trace (a full walk).
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

    private static void runCancelled(java.util.function.IntSupplier initialize) {
        CancelScope scope = new CancelScope("initializer test", true);
        scope.enter();
        try {
            scope.cancel();
            Thread.interrupted(); // the cancel interrupted this thread; not what is tested here
            assertThat(initialize.getAsInt()).as("the initializer ran to its end").isEqualTo(100);
            assertThatThrownBy(Poll::poll).as("the first poll after it throws").isInstanceOf(CancelledSignal.class);
        } finally {
            scope.exit();
        }
    }
}
