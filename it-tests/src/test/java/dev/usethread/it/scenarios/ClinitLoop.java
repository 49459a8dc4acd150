package dev.usethread.it.scenarios;

import dev.usethread.ResultState;
import dev.usethread.UseThread;
import java.util.Arrays;

/**
 * A static initializer with a loop is never woven: a job cancelled while it runs there finishes the
 * initializer and stops at its next poll, and the class stays usable. A signal thrown inside the
 * initializer would instead leave it unusable for good (NoClassDefFoundError).
 */
public final class ClinitLoop {
    /** Released by main once the cancel is in; a separate class, since main must not touch Slow. */
    static final class Gate {
        static volatile boolean open;
    }

    static final class Slow {
        static final long VALUE;

        static {
            long x = 0;
            while (!Gate.open) {
                x = step(x); // woven code called from an initializer: its polls must not throw here
            }
            VALUE = 42 + (x & 0);
        }
    }

    static long step(long x) {
        return x + 1;
    }

    static long useSlow() {
        long v = Slow.VALUE;
        EndlessLoop.spin(); // the first poll after the initializer is here (or at the entry)
        return v;
    }

    public static void main(String[] args) throws Exception {
        UseThread<Object> job = UseThread.options().name("clinit").useThread(Harness.wrap(ClinitLoop::useSlow));
        Harness.awaitInside(e -> e.getMethodName().equals("<clinit>") && e.getClassName().endsWith("$Slow"));
        job.cancel();
        Gate.open = true;
        ResultState state = Harness.awaitEnd(job).state();
        Harness.report("ATTEMPT1", state.toString());
        Harness.report("THROWN_AT", Harness.takeThrownAt());
        if (state != ResultState.CANCELLED) {
            Harness.fail("job ended " + state);
        }
        try {
            Harness.report("SLOW_VALUE", String.valueOf(Slow.VALUE));
        } catch (LinkageError e) {
            Harness.fail("class left unusable: " + e + " " + Arrays.toString(e.getStackTrace()));
        }
        Harness.ok();
    }
}
