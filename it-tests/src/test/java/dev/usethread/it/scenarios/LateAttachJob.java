package dev.usethread.it.scenarios;

import dev.usethread.it.late.LateJob;

/** The part of the late-attach scenario that runs once the agent is installed. */
public final class LateAttachJob {
    public static void run() {
        Harness.run("late-attach", () -> LateJob.spin(-1), Harness.inMethod(LateJob.class.getName(), "spin"));
    }
}
