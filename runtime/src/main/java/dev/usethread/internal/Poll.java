package dev.usethread.internal;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.MutableCallSite;
import jdk.internal.vm.annotation.DontInline;
import jdk.internal.vm.annotation.ForceInline;

/**
 * The entry points of woven code and the cancelled-thread mask behind them.
 *
 * <p>Design (numbers in BENCHMARKS.md): a poll compares the target of a {@code static final}
 * {@link MutableCallSite} with an empty method. While nothing is cancelled every site's target is
 * that empty method, which C2 treats as a constant and folds away, so compiled woven code is the
 * same machine code as unwoven code (vectorization included). A cancellation <em>arms</em> sites:
 * polls then test the current thread's bit in a read-mostly mask of cancelled threads, so bystander
 * threads do not take the slow path. Changing a site's target deoptimizes the compiled code that
 * inlined the old one, which is what lets a hot compiled loop notice.
 *
 * <p>There is a site per poll group ({@link PollGroup}, {@link GroupPolls}) and one for hand-written
 * {@link #poll()} calls. {@link Arming} arms only the groups of the classes in the cancelled
 * thread's stack trace, so code that only other threads run is neither deoptimized nor checked; it
 * falls back to arming every site when that does not stop the thread. (A global site that every
 * poll also checked cost a long-indexed loop 20 % while idle: one constant site per poll.) Sites are disarmed after a quiet period with nothing cancelled (hysteresis), so frequent
 * cancellation costs one mask check per poll of the affected groups instead of a deoptimization per
 * cancel.
 *
 * <p>{@code -Dusethread.poll=flag} keeps every site armed for the life of the JVM: every poll
 * then costs a load and a branch, but a cancellation needs no safepoint. That is the choice for
 * Parallel/Serial GC without {@code -XX:+UseCountedLoopSafepoints}, where a deoptimization is not
 * seen by a counted loop until it ends.
 *
 * <p>This class is loaded by the bootstrap loader when the agent runs and may be called from woven
 * JDK code: it links only to JDK classes and never calls back into woven code on its fast path.
 */
public final class Poll {
    static final Object LOCK = new Object();

    /** True when every site stays armed for ever ({@code -Dusethread.poll=flag}). */
    static final boolean ALWAYS_ARMED = "flag".equals(System.getProperty("usethread.poll"));

    /** Every site's target while idle: compiled away entirely. */
    static final MethodHandle IDLE;
    /** An armed site's target (only its identity matters: polls compare targets with IDLE). */
    static final MethodHandle ARMED;
    /** The site of {@link #poll()} and {@link #pollInHandler()} (hand-written calls, no group). */
    static final MutableCallSite UNGROUPED;
    private static final MutableCallSite[] GROUP_SITES = new MutableCallSite[PollGroup.COUNT];

    /**
     * Bit {@code id % 64} is set while a thread with that id is inside an intrusive scope whose
     * cancellation was requested. One read-mostly word: a bystander's check is a load, a shift and a
     * test, whatever number of threads are cancelled; a collision only costs a slow-path look-up.
     */
    private static volatile long cancelledMask;
    /** Cancelled threads per mask bit; guarded by LOCK. */
    private static final int[] THREADS_PER_BIT = new int[64];
    /** Number of entered, not yet exited scopes (intrusive or not) whose cancellation was requested. */
    private static volatile int pending;
    /** Threads with a cancelled intrusive scope; guarded by LOCK. */
    static int cancelledThreads;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            MethodType voidType = MethodType.methodType(void.class);
            IDLE = lookup.findStatic(Poll.class, "idle", voidType);
            ARMED = lookup.findStatic(Poll.class, "armed", voidType);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
        MethodHandle initial = ALWAYS_ARMED ? ARMED : IDLE;
        UNGROUPED = new MutableCallSite(initial);
        for (int g = 0; g < GROUP_SITES.length; g++) {
            GROUP_SITES[g] = new MutableCallSite(initial);
        }
    }

    private Poll() {
    }

    /**
     * Hand-written poll (the agent weaves {@link GroupPolls}' instead): throws {@code CancelledSignal}
     * if this thread's intrusive run was cancelled.
     */
    @ForceInline
    public static void poll() {
        // C2 treats the target of a constant call site as a constant (with a dependency that the
        // next setTarget invalidates), so while idle this comparison and the branch vanish.
        MutableCallSite site = UNGROUPED;
        if (site != null && site.getTarget() != IDLE) { // null: woven JDK code running in our <clinit>
            armedCheck();
        }
    }

    /**
     * Like {@link #poll()}, for a back-edge whose loop lies wholly in exception-handler code (a loop
     * inside a {@code finally} or {@code catch} body): while this thread runs the handler that caught
     * its cancellation signal, the loop is cleanup and goes on.
     */
    @ForceInline
    public static void pollInHandler() {
        MutableCallSite site = UNGROUPED;
        if (site != null && site.getTarget() != IDLE) {
            armedCheckInHandler();
        }
    }

    /**
     * Woven at the start of every exception handler ({@code dup; invokestatic}): {@code t} was
     * caught, so code unwinding because of a cancellation signal (a {@code finally} block, a handler
     * that rethrows, and what they call) can run to completion. Never throws.
     */
    public static void caught(Throwable t) {
        if (pending != 0) {
            ThreadState.caught(t);
        }
    }

    /**
     * Woven before every {@code athrow} (a bare {@code invokestatic}): {@code t} is (re)thrown.
     * Returns {@code t}, which the {@code athrow} then throws, so the hook needs no stack slot of its
     * own. Never throws.
     */
    public static Throwable thrown(Throwable t) {
        if (pending != 0) {
            ThreadState.thrown(t);
        }
        return t;
    }

    /** Cooperative poll: like {@link #poll()} but also honours non-intrusive scopes. */
    public static void checkpoint() {
        if (pending != 0) {
            ThreadState.pollSlow(true, false);
        }
    }

    static MutableCallSite groupSite(int group) {
        return GROUP_SITES[group];
    }

    private static void idle() {
    }

    private static void armed() {
    }

    /**
     * The armed check of a woven poll ({@link GroupPolls}), {@code @ForceInline} (HotSpot honours it
     * where the agent runs: this class is then the boot loader's): while a site is armed a poll compiles to a load and a branch, plus a
     * shift and a test while some thread is cancelled, and only a thread whose own bit is set takes
     * the call to {@link #armedPollSlow()}. That one is marked {@code @DontInline}: a huge method
     * with a hundred polls (Rhino's interpreter loop) gets a hundred calls on cold paths, not a
     * hundred copies of the slow path, which made it too big for C2 ("out of nodes"). A call on every
     * poll cost the deadline service more than half its throughput while armed. Testing the thread's
     * own bit before the call keeps bystanders off the slow path while another thread is stopped.
     */
    @ForceInline
    @SuppressWarnings("deprecation") // Thread.getId(): threadId() needs Java 19
    static void armedPoll() {
        long mask = cancelledMask;
        if (mask != 0 && (mask & (1L << Thread.currentThread().getId())) != 0) {
            armedPollSlow();
        }
    }

    /** {@link #armedPoll()} for polls in handler-only loops. */
    @ForceInline
    @SuppressWarnings("deprecation")
    static void armedPollInHandler() {
        long mask = cancelledMask;
        if (mask != 0 && (mask & (1L << Thread.currentThread().getId())) != 0) {
            armedPollInHandlerSlow();
        }
    }

    /** This thread (or one sharing its mask bit) is cancelled. Never inlined (see {@link #armedPoll()}). */
    @DontInline
    static void armedPollSlow() {
        ThreadState.pollSlow(false, false);
    }

    /** {@link #armedPollSlow()} for polls in handler-only loops. */
    @DontInline
    static void armedPollInHandlerSlow() {
        ThreadState.pollSlow(false, true);
    }

    /** The check while armed: a shared, read-mostly word; only (probably) cancelled threads go on. */
    @SuppressWarnings("deprecation") // Thread.getId(): threadId() needs Java 19
    static void armedCheck() {
        long mask = cancelledMask;
        if (mask != 0 && (mask & (1L << Thread.currentThread().getId())) != 0) {
            ThreadState.pollSlow(false, false);
        }
    }

    @SuppressWarnings("deprecation")
    static void armedCheckInHandler() {
        long mask = cancelledMask;
        if (mask != 0 && (mask & (1L << Thread.currentThread().getId())) != 0) {
            ThreadState.pollSlow(false, true);
        }
    }

    @SuppressWarnings("deprecation")
    private static int bitOf(Thread thread) {
        return (int) (thread.getId() & 63);
    }

    /**
     * A scope of {@code state}'s thread became cancelled while entered (or was entered cancelled).
     * For an intrusive scope the thread's mask bit is set before the caller interrupts it, and a
     * thread not cancelled before is handed to {@link Arming}, which arms the sites of its code in
     * the background (the caller does not wait for a deoptimization). Returns that cancellation's
     * number, which the caller passes to {@link #cancellationInterrupted} once it has interrupted the
     * thread, or 0 if the thread was cancelled already.
     */
    static int scopeCancelled(ThreadState state, boolean intrusive) {
        synchronized (LOCK) {
            pending++;
            if (intrusive && state.cancelledIntrusiveScopes++ == 0) {
                int bit = bitOf(state.thread);
                if (THREADS_PER_BIT[bit]++ == 0) {
                    cancelledMask |= 1L << bit;
                }
                cancelledThreads++;
                state.cancellations++;
                Arming.cancelled(state); // now, while the thread still sleeps: the arming thread wakes on a free core
                return state.cancellations;
            }
            return 0;
        }
    }

    /**
     * Cancellation {@code number} ({@link #scopeCancelled}'s) has sent its interrupt (or deferred it).
     * Only from then on may the arming thread interrupt the thread again: a second interrupt landing
     * first would make the scope take its own interrupt for someone else's and keep it. A volatile
     * write, not the lock: the arming thread may hold it just then, and the canceller would wait.
     */
    static void cancellationInterrupted(ThreadState state, int number) {
        state.interruptedFor = number;
    }

    /** A cancelled scope of {@code state}'s thread was exited. */
    static void scopeCleared(ThreadState state, boolean intrusive) {
        synchronized (LOCK) {
            pending--;
            if (intrusive && --state.cancelledIntrusiveScopes == 0) {
                int bit = bitOf(state.thread);
                if (--THREADS_PER_BIT[bit] == 0) {
                    cancelledMask &= ~(1L << bit);
                }
                if (--cancelledThreads == 0) {
                    Arming.calm();
                }
            }
        }
    }

    /**
     * Starts the arming thread if none runs. Called by the cancelling thread after it interrupted the
     * cancelled one, outside its locks: starting a thread takes 0.1 ms, sometimes milliseconds.
     */
    static void ensureArming() {
        Arming.ensureWorker();
    }

    /** For tests and diagnostics: cancelled scopes in flight. */
    public static int pendingCount() {
        return pending;
    }

    /** For tests and diagnostics: whether any poll site is armed. */
    public static boolean isArmed() {
        return Arming.anyArmed();
    }

    /** For tests and diagnostics: whether the site of poll group {@code group} is armed. */
    public static boolean isGroupArmed(int group) {
        return Arming.isArmed(java.util.Objects.checkIndex(group, PollGroup.COUNT));
    }

    /** For tests and diagnostics: whether every site is armed (the fallback, or {@code usethread.poll=flag}). */
    public static boolean isGloballyArmed() {
        return Arming.isArmed(Arming.ALL);
    }

    /** For tests and diagnostics: how often a poll site changed target (each one may deoptimize). */
    public static long targetChanges() {
        return Arming.targetChanges();
    }
}
