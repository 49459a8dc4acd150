package dev.usethread.internal;

import java.lang.invoke.MutableCallSite;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Arms and disarms {@link Poll}'s sites, on one background thread ({@code usethread-poll}), so that
 * {@code cancel()} never waits for a deoptimization.
 *
 * <p>Only what the cancelled thread runs needs to see its cancellation. For each newly cancelled
 * thread: its stack trace is taken and the poll groups of its innermost woven frames (at most
 * {@value #FIRST_GROUPS}; JDK and runtime frames skipped) are armed, which deoptimizes only the
 * compiled code that inlined those groups' polls; code that only other threads run keeps running as
 * if it had no polls. (While the groups armed for the same thread's previous cancellation are still
 * armed, the stack trace waits for the first look and is taken only if the thread has not stopped by
 * then: on JDK 17 it is a safepoint, which stalls every thread, and a thread cancelled again and
 * again mostly runs the same code.) While the thread stays cancelled it is looked at again, after
 * {@value #FIRST_RESAMPLE_MILLIS} ms and then at doubling intervals: not stopped yet, the groups of
 * its innermost frames then are armed; stopped but still unwinding after 50 ms
 * ({@code usethread.poll.wholeStackMillis}), those of all its frames (so that a handler that
 * swallows the signal is seen in whichever caller it returns to). If it is still cancelled and
 * runnable after {@code usethread.poll.globalMillis} (200 ms) every site is armed: the targeted
 * sites never make a stop less certain than arming everything, only cheaper.
 *
 * <p>Sites are disarmed together once no thread has been cancelled for a quiet period (5 s,
 * {@code usethread.poll.quietMillis}); re-arming soon after a disarm makes the period four times
 * the calm that ended it (at least double), up to {@code usethread.poll.maxQuietMillis} (60 s), so
 * recurring cancellation does not deoptimize the same code over and over (see {@link #nextQuiet}).
 * The thread ends after {@code usethread.poll.lingerMillis} (60 s) with nothing armed.
 */
final class Arming {
    private static final long BASE_QUIET_NANOS = millis("usethread.poll.quietMillis", 5000);
    private static final long MAX_QUIET_NANOS = millis("usethread.poll.maxQuietMillis", 60_000);
    private static final long GLOBAL_NANOS = millis("usethread.poll.globalMillis", 200);
    /** Cleanup that runs this long gets the groups of all its thread's frames armed. */
    private static final long WHOLE_STACK_NANOS = millis("usethread.poll.wholeStackMillis", 50);
    private static final long LINGER_NANOS = millis("usethread.poll.lingerMillis", 60_000);
    static final long FIRST_RESAMPLE_MILLIS = 2;
    /** Distinct groups armed from the first look at a stack: the innermost code, where it loops. */
    private static final int FIRST_GROUPS = 8;

    // Guarded by Poll.LOCK:
    private static final ArrayDeque<ThreadState> FRESH = new ArrayDeque<>();
    private static Thread worker;
    private static boolean anyArmed = Poll.ALWAYS_ARMED;
    /** How often every site was disarmed: the epoch {@link ThreadState#armedInEpoch} refers to. Worker only. */
    private static long disarms;
    private static long flips;
    private static long quietSinceNanos;
    private static long lastDisarmNanos;
    private static long quietNanos = BASE_QUIET_NANOS;
    private static long idleSinceNanos;

    /** Sites by index: the groups, then UNGROUPED; ALL stands for all of them (the fallback). */
    static final int UNGROUPED = PollGroup.COUNT;
    static final int ALL = PollGroup.COUNT + 1;
    /** Which sites are armed; written only by the worker, under Poll.LOCK (which it may read without). */
    private static final boolean[] ARMED = new boolean[PollGroup.COUNT + 2];

    static {
        java.util.Arrays.fill(ARMED, Poll.ALWAYS_ARMED);
    }

    // The worker's own:
    private static final List<Target> TARGETS = new ArrayList<>();

    /** A cancelled thread being followed. */
    private static final class Target {
        final ThreadState state;
        final int cancellation;
        final long since;
        long nextLookNanos;
        long interval = TimeUnit.MILLISECONDS.toNanos(FIRST_RESAMPLE_MILLIS);

        Target(ThreadState state, int cancellation, long now) {
            this.state = state;
            this.cancellation = cancellation;
            this.since = now;
        }
    }

    private Arming() {
    }

    private static long millis(String property, long defaultMillis) {
        return TimeUnit.MILLISECONDS.toNanos(Long.getLong(property, defaultMillis));
    }

    /** Holds Poll.LOCK: {@code state}'s thread has just become cancelled (its interrupt comes next). */
    static void cancelled(ThreadState state) {
        if (!Poll.ALWAYS_ARMED) {
            FRESH.add(state);
            Poll.LOCK.notifyAll();
        }
    }

    /** Holds Poll.LOCK: no thread is cancelled any more; the quiet period starts. */
    static void calm() {
        quietSinceNanos = System.nanoTime();
        Poll.LOCK.notifyAll();
    }

    static void ensureWorker() {
        synchronized (Poll.LOCK) {
            if (worker == null && !FRESH.isEmpty()) {
                idleSinceNanos = System.nanoTime();
                worker = new Thread(Arming::work, "usethread-poll");
                worker.setDaemon(true);
                worker.start();
            }
        }
    }

    static boolean anyArmed() {
        synchronized (Poll.LOCK) {
            return anyArmed;
        }
    }

    /** Whether site {@code index} (a group, {@link #UNGROUPED} or {@link #ALL}) is armed. */
    static boolean isArmed(int index) {
        synchronized (Poll.LOCK) {
            return ARMED[index];
        }
    }

    static long targetChanges() {
        synchronized (Poll.LOCK) {
            return flips;
        }
    }

    private static void work() {
        List<ThreadState> fresh = new ArrayList<>();
        List<Target> due = new ArrayList<>();
        while (true) {
            boolean disarm = false;
            synchronized (Poll.LOCK) {
                while (true) {
                    long now = System.nanoTime();
                    fresh.addAll(FRESH);
                    FRESH.clear();
                    long wake = collectDue(due, now);
                    if (!fresh.isEmpty() || !due.isEmpty()) {
                        break;
                    }
                    if (anyArmed && !Poll.ALWAYS_ARMED && Poll.cancelledThreads == 0) {
                        long quiet = now - quietSinceNanos;
                        if (quiet >= quietNanos) {
                            anyArmed = false;
                            lastDisarmNanos = now;
                            idleSinceNanos = now;
                            disarm = true;
                            break;
                        }
                        wake = Math.min(wake, quietNanos - quiet);
                    }
                    if (!anyArmed && TARGETS.isEmpty()) {
                        long idle = now - idleSinceNanos;
                        if (idle >= LINGER_NANOS) {
                            worker = null; // the next cancellation starts a new one
                            return;
                        }
                        wake = Math.min(wake, LINGER_NANOS - idle);
                    }
                    try {
                        TimeUnit.NANOSECONDS.timedWait(Poll.LOCK, Math.max(wake, 1));
                    } catch (InterruptedException e) {
                        // nobody else interrupts this thread; keep serving
                    }
                }
            }
            if (disarm) {
                disarmAll();
            }
            for (ThreadState state : fresh) {
                follow(state);
            }
            fresh.clear();
            for (Target target : due) {
                lookAgain(target);
            }
            due.clear();
        }
    }

    /**
     * Holds Poll.LOCK. Drops targets that are no longer cancelled, puts those whose next look is due
     * into {@code due}; returns the nanoseconds until the next look (Long.MAX_VALUE if none).
     */
    private static long collectDue(List<Target> due, long now) {
        long wake = Long.MAX_VALUE;
        for (int i = TARGETS.size() - 1; i >= 0; i--) {
            Target t = TARGETS.get(i);
            if (t.state.cancelledIntrusiveScopes == 0 || t.state.cancellations != t.cancellation) {
                TARGETS.remove(i);
            } else if (now - t.nextLookNanos >= 0) {
                due.add(t);
            } else {
                wake = Math.min(wake, t.nextLookNanos - now);
            }
        }
        return wake;
    }

    private static void follow(ThreadState state) {
        int cancellation;
        boolean stopped;
        boolean allArmed;
        synchronized (Poll.LOCK) {
            if (state.cancelledIntrusiveScopes == 0) {
                return;
            }
            cancellation = state.cancellations;
            stopped = state.signalThrown;
            allArmed = ARMED[ALL];
        }
        if (!allArmed) {
            arm(UNGROUPED); // hand-written polls (no group): nothing to deoptimize where there are none
        }
        // Stopped already: sites armed before stopped it. The groups of its last cancellation still
        // armed: it likely runs the same code again (a worker whose requests time out often), so the
        // stack trace, a safepoint on JDK 17 that stalls every thread, waits for the first look,
        // which takes it only if the thread has not stopped by then.
        boolean traceNow = !stopped && !allArmed && state.armedInEpoch != disarms;
        if (traceNow) {
            armGroupsOf(state, cancellation, FIRST_GROUPS);
        }
        long now = System.nanoTime();
        Target target = new Target(state, cancellation, now);
        target.nextLookNanos = now + target.interval;
        synchronized (Poll.LOCK) {
            TARGETS.add(target);
        }
        if (traceNow) { // else nothing was armed for it yet: the first look interrupts it again if need be
            interruptIfWaitingAgain(target, false);
        }
    }

    /**
     * Sends the cancellation's interrupt where it is needed, under Poll.LOCK, only while the same
     * cancellation is in flight and after its interrupt was requested (else the scope would take its
     * own for someone else's and keep it); the scope's exit, which clears the interrupt it caused,
     * cannot come between the check and the interrupt. Before the signal is thrown:
     * <ul>
     * <li>an interrupt the thread is still owed ({@link ThreadState#interruptForCancellation()}: it
     * was running when cancelled) is sent if it is blocked now, or, once the cancellation is as old
     * as the global arm's bound ({@code late}, {@code usethread.poll.globalMillis}, 200 ms),
     * whatever it does: it has not stopped at a poll, so it runs unwoven code or waits in a blocking
     * read, which only an interrupt ends. Not sooner: a thread that merely waited for a core would
     * be interrupted in the middle of its work (a write to a shared FileChannel);</li>
     * <li>a thread that swallowed its interrupt (a woven {@code catch (InterruptedException e) {}}
     * around a sleep, in a loop) and blocks again is interrupted once more, now that its polls are
     * armed.</li>
     * </ul>
     * After the signal: its cleanup runs without an interrupt (see ThreadState#signalLeaving), unless
     * it blocks past the cleanup budget ({@code usethread.cleanupMillis}).
     */
    private static void interruptIfWaitingAgain(Target target, boolean late) {
        ThreadState state = target.state;
        Thread.State s = state.thread.getState();
        boolean blocked = s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING;
        boolean cleanupBlockedTooLong = blocked && System.nanoTime() - target.since >= Unwinding.CLEANUP_NANOS;
        synchronized (Poll.LOCK) {
            if (state.cancelledIntrusiveScopes == 0 || state.cancellations != target.cancellation
                    || state.interruptedFor != target.cancellation) {
                return;
            }
            if (state.signalThrown) {
                if (cleanupBlockedTooLong) {
                    state.interruptOrDefer();
                }
            } else if (blocked || late) {
                if (!state.payOwedInterrupt() && blocked) {
                    state.interruptOrDefer(); // it swallowed its interrupt and blocks again
                }
            }
        }
    }

    /**
     * A thread still cancelled at its next look. Not stopped yet: it runs code whose groups were not
     * armed; arm those of its innermost frames now. Stopped and unwinding: its cleanup is running,
     * and only if that takes long are the groups of all its frames armed (a handler that swallows
     * the signal is then seen in whichever caller it returns to).
     */
    private static void lookAgain(Target target) {
        Thread thread = target.state.thread;
        long age = System.nanoTime() - target.since;
        boolean unwinding = target.state.signalThrown;
        boolean allArmed = isArmed(ALL); // then only the interrupt below may still be needed
        if (!allArmed && !unwinding) {
            armGroupsOf(target.state, target.cancellation, FIRST_GROUPS);
        } else if (!allArmed && age >= WHOLE_STACK_NANOS) {
            armGroupsOf(target.state, target.cancellation, Integer.MAX_VALUE);
        }
        if (age >= GLOBAL_NANOS && thread.getState() == Thread.State.RUNNABLE) {
            arm(ALL);
        }
        long now = System.nanoTime();
        target.interval *= 2;
        target.nextLookNanos = now + target.interval;
        interruptIfWaitingAgain(target, age >= GLOBAL_NANOS);
    }

    /** For tests: given the cancelled thread just before the arming thread takes its stack trace. */
    static volatile java.util.function.Consumer<Thread> beforeStackTrace;

    /**
     * Arms the groups of the woven frames of {@code state}'s thread's stack, innermost first, at most
     * {@code limit} of them, if the trace shows cancellation {@code cancellation}'s code: the thread
     * may have stopped between the decision to look and the trace (the arming thread waits for a
     * core, or for the deoptimization of the site it armed first), and a worker then already runs its
     * next request. Arming that code would make requests that were never cancelled pay the armed
     * checks (a deadline service's good requests did, for as long as the groups stayed armed). So the
     * trace counts only if the thread is still inside the cancelled scope after it, with no new
     * cancellation: then it was inside all along.
     */
    private static void armGroupsOf(ThreadState state, int cancellation, int limit) {
        java.util.function.Consumer<Thread> hook = beforeStackTrace;
        if (hook != null) {
            hook.accept(state.thread);
        }
        StackTraceElement[] stack = state.thread.getStackTrace();
        synchronized (Poll.LOCK) {
            if (state.cancelledIntrusiveScopes == 0 || state.cancellations != cancellation) {
                return;
            }
        }
        state.armedInEpoch = disarms;
        int armed = 0;
        for (StackTraceElement frame : stack) {
            if (!mayBeWoven(frame)) {
                continue;
            }
            if (arm(PollGroup.of(frame.getClassName())) && ++armed == limit) {
                return;
            }
        }
    }

    /**
     * False for frames the agent never weaves: classes of the boot and platform loaders (the JDK, and
     * the runtime itself on the boot class path) outside the JDK packages {@code jdk=} may weave.
     */
    private static boolean mayBeWoven(StackTraceElement frame) {
        String loader = frame.getClassLoaderName();
        if (loader != null && !loader.equals("platform")) {
            return true;
        }
        String className = frame.getClassName();
        int dot = className.lastIndexOf('.');
        return dot > 0 && WeavableJdkPackages.allowing(className.substring(0, dot)) != null;
    }

    private static void disarmAll() {
        disarms++;
        synchronized (Poll.LOCK) {
            ARMED[ALL] = false;
        }
        for (int i = 0; i < ALL; i++) {
            if (ARMED[i]) {
                retarget(i, false);
            }
        }
    }

    /**
     * Arms site {@code index} unless it is armed; true if it was not. {@link #ALL} is no site of its
     * own: it arms every site (each one deoptimizes only the code that inlined it, so sites that no
     * compiled code uses cost next to nothing).
     */
    private static boolean arm(int index) {
        if (ARMED[index]) {
            return false;
        }
        if (index == ALL) {
            for (int i = 0; i < ALL; i++) {
                arm(i);
            }
            synchronized (Poll.LOCK) {
                ARMED[ALL] = true;
            }
            return true;
        }
        retarget(index, true);
        return true;
    }

    private static MutableCallSite site(int index) {
        return index == UNGROUPED ? Poll.UNGROUPED : Poll.groupSite(index);
    }

    /**
     * The quiet period of an armed period that starts {@code sinceDisarm} after the last disarm
     * ({@code firstArming}: there was none), the previous one having been {@code quiet}. Each disarm
     * and re-arm deoptimizes the shared code twice: recompiling a big method armed takes C2 a second
     * or more, during which requests that run it slow down and may miss deadlines of their own,
     * while staying armed costs only the checks in the armed groups. So a re-arm soon after a
     * disarm (within ten quiet periods) means cancellations recur, as in a service whose deadlines
     * fire now and then: the period becomes four times the calm that ended (the quiet period plus
     * the time since the disarm), at least double, so that calms like it no longer disarm. A long
     * calm starts again from the base.
     */
    static long nextQuiet(long quiet, long sinceDisarm, boolean firstArming, long base, long max) {
        if (firstArming || sinceDisarm >= 10 * quiet) {
            return base;
        }
        long calm = quiet + sinceDisarm;
        return Math.max(base, Math.min(max, Math.max(quiet * 2, calm * 4)));
    }

    /**
     * Changes a site's target: deoptimizes the compiled code that inlined its polls. The first site
     * armed after a calm starts the armed period, its quiet period from {@link #nextQuiet}.
     */
    private static void retarget(int index, boolean armed) {
        synchronized (Poll.LOCK) {
            if (armed && !anyArmed) {
                anyArmed = true;
                long now = System.nanoTime();
                quietNanos = nextQuiet(quietNanos, now - lastDisarmNanos, disarms == 0, BASE_QUIET_NANOS, MAX_QUIET_NANOS);
                quietSinceNanos = now;
            }
            ARMED[index] = armed;
            flips++;
        }
        MutableCallSite site = site(index);
        site.setTarget(armed ? Poll.ARMED : Poll.IDLE);
        MutableCallSite.syncAll(new MutableCallSite[] {site});
    }
}
