package dev.usethread.it.scenarios;

import java.util.concurrent.locks.LockSupport;

/** A job parked (as j.u.c. locks and queues do), re-parking after every wake-up. */
public final class Park {
    static volatile boolean done;

    static Object parker() {
        while (!done) {
            LockSupport.park(Park.class);
        }
        return "done";
    }

    public static void main(String[] args) {
        Harness.run("park", Park::parker, e -> e.getClassName().equals("jdk.internal.misc.Unsafe")
                && e.getMethodName().equals("park"));
    }
}
