package dev.usethread.bench;

import dev.usethread.internal.Poll;
import java.util.concurrent.locks.LockSupport;

/**
 * Jobs that never check for cancellation themselves, woven by hand (polls where the agent puts
 * them). They end only by a {@code CancelledSignal} from a poll.
 */
public final class Workloads {
    static volatile int sink;

    private Workloads() {
    }

    /** A CPU loop around a long counted loop ({@code HandWovenKernels.countedSpin}). */
    public static void cpu(int inner) {
        Poll.poll();
        while (true) {
            sink += HandWovenKernels.countedSpin(inner);
            Poll.poll(); // back-edge
        }
    }

    /** Sleeps, swallowing interrupts. */
    public static void sleep() {
        Poll.poll();
        while (true) {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException swallowed) {
                // a library that ignores interrupts: only the poll stops it
            }
            Poll.poll(); // back-edge
        }
    }

    /** Waits on a monitor nobody notifies, swallowing interrupts. */
    public static void await(Object monitor) {
        Poll.poll();
        while (true) {
            synchronized (monitor) {
                try {
                    monitor.wait();
                } catch (InterruptedException swallowed) {
                    // as above
                }
            }
            Poll.poll(); // back-edge
        }
    }

    /** Parks; a park returns on interrupt with the status set. */
    public static void park() {
        Poll.poll();
        while (true) {
            LockSupport.park();
            Poll.poll(); // back-edge
        }
    }
}
