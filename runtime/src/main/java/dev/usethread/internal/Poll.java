package dev.usethread.internal;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.MutableCallSite;
import java.util.concurrent.TimeUnit;

/**
 * The entry point that the agent weaves into loop back-edges and method entries. Its name and
 * signature ({@code public static void poll()}) are a stable contract with woven code.
 *
 * <p>Design (numbers in BENCHMARKS.md): {@code poll()} calls a {@code static final} invoker of a
 * {@link MutableCallSite}. While no intrusive cancellation is in flight the site's target is an
 * empty method, which C2 inlines and folds away, so compiled woven code is the same machine code as
 * unwoven code (vectorization included). A cancellation <em>arms</em> the site: polls then test
 * the current thread's bit in a read-mostly mask of cancelled threads, so bystander threads do not
 * take the slow path. Changing the target deoptimizes the compiled code that inlined
 * the old one, which is what lets a hot compiled loop notice. The site is disarmed only after a quiet
 * period with nothing cancelled (hysteresis), so frequent cancellation costs one array check per
 * poll instead of a deoptimization per cancel.
 *
 * <p>{@code -Dusethread.poll=flag} keeps the site armed for the life of the JVM: every poll then
 * costs a load and a branch, but a cancellation needs no safepoint. That is the choice for
 * Parallel/Serial GC without {@code -XX:+UseCountedLoopSafepoints}, where a deoptimization is not
 * seen by a counted loop until it ends.
 *
 * <p>This class is loaded by the bootstrap loader when the agent runs and may be called from woven
 * JDK code: it links only to JDK classes and never calls back into woven code on its fast path.
 */
public final class Poll {
    private static final Object LOCK = new Object();

    /** True when the site stays armed for ever ({@code -Dusethread.poll=flag}). */
    static final boolean ALWAYS_ARMED = "flag".equals(System.getProperty("usethread.poll"));
    private static final long BASE_QUIET_NANOS =
            TimeUnit.MILLISECONDS.toNanos(Long.getLong("usethread.poll.quietMillis", 1000L));
    private static final long MAX_QUIET_NANOS =
            TimeUnit.MILLISECONDS.toNanos(Long.getLong("usethread.poll.maxQuietMillis", 30_000L));

    private static final MutableCallSite SITE;
    private static final MethodHandle IDLE;
    private static final MethodHandle ARMED;

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

    // Guarded by LOCK:
    private static int cancelledThreads;
    private static boolean armed;
    private static long quietSinceNanos;
    private static long lastDisarmNanos;
    private static long quietNanos = BASE_QUIET_NANOS;
    private static Thread disarmer;
    private static long flips;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            MethodType voidType = MethodType.methodType(void.class);
            IDLE = lookup.findStatic(Poll.class, "idle", voidType);
            ARMED = lookup.findStatic(Poll.class, "armedCheck", voidType);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
        armed = ALWAYS_ARMED;
        SITE = new MutableCallSite(armed ? ARMED : IDLE);
    }

    private Poll() {
    }

    /** Woven poll: throws {@code CancelledSignal} if this thread's intrusive run was cancelled. */
    public static void poll() {
        // C2 treats the target of a constant call site as a constant (with a dependency that the
        // next setTarget invalidates), so while idle this comparison and the branch vanish.
        MutableCallSite site = SITE;
        if (site != null && site.getTarget() != IDLE) { // null: woven JDK code running in our <clinit>
            armedCheck();
        }
    }

    /**
     * Woven at a back-edge whose loop lies wholly in exception-handler code (a loop inside a
     * {@code finally} or {@code catch} body): like {@link #poll()}, except that while this thread
     * runs the handler that caught its cancellation signal, the loop is cleanup and goes on.
     */
    public static void pollInHandler() {
        MutableCallSite site = SITE;
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

    /** The site's target while nothing is cancelled: compiled away entirely. */
    private static void idle() {
    }

    /** The check while armed: a shared, read-mostly word; only (probably) cancelled threads go on. */
    @SuppressWarnings("deprecation") // Thread.getId(): threadId() needs Java 19
    private static void armedCheck() {
        long mask = cancelledMask;
        if (mask != 0 && (mask & (1L << Thread.currentThread().getId())) != 0) {
            ThreadState.pollSlow(false, false);
        }
    }

    @SuppressWarnings("deprecation")
    private static void armedCheckInHandler() {
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
     * For an intrusive scope this arms the poll before the caller interrupts the thread, so a thread
     * woken from {@code sleep}/{@code wait}/{@code park} meets an armed poll.
     */
    static void scopeCancelled(ThreadState state, boolean intrusive) {
        synchronized (LOCK) {
            pending++;
            if (intrusive && state.cancelledIntrusiveScopes++ == 0) {
                int bit = bitOf(state.thread);
                if (THREADS_PER_BIT[bit]++ == 0) {
                    cancelledMask |= 1L << bit;
                }
                cancelledThreads++;
                arm();
            }
        }
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
                    quietSinceNanos = System.nanoTime();
                    LOCK.notifyAll();
                }
            }
        }
    }

    // Holds LOCK. Re-arming soon after a disarm doubles the quiet period (frequent cancellation
    // then stays armed instead of deoptimizing on every cancel); a long calm resets it.
    private static void arm() {
        if (armed) {
            return;
        }
        long now = System.nanoTime();
        if (flips > 0 && now - lastDisarmNanos < 10 * quietNanos) {
            quietNanos = Math.max(BASE_QUIET_NANOS, Math.min(MAX_QUIET_NANOS, quietNanos * 2));
        } else {
            quietNanos = BASE_QUIET_NANOS;
        }
        retarget(ARMED);
        armed = true;
        LOCK.notifyAll();
    }

    /**
     * Starts the thread that disarms the site after a quiet period, if the site is armed and none
     * runs. Called by the cancelling thread after it interrupted the cancelled one: starting a
     * thread takes 0.1 ms, sometimes milliseconds, which the cancellation should not wait for.
     */
    static void ensureDisarmer() {
        synchronized (LOCK) {
            if (armed && !ALWAYS_ARMED && disarmer == null) {
                disarmer = new Thread(Poll::disarmWhenQuiet, "usethread-poll-disarm");
                disarmer.setDaemon(true);
                disarmer.start();
            }
        }
    }

    private static void retarget(MethodHandle target) {
        SITE.setTarget(target); // deoptimizes compiled code that inlined the old target
        MutableCallSite.syncAll(new MutableCallSite[] {SITE});
        flips++;
    }

    private static void disarmWhenQuiet() {
        synchronized (LOCK) {
            while (true) {
                try {
                    if (!armed) {
                        disarmer = null; // the next arm() starts a new one: no thread lingers while idle
                        return;
                    }
                    if (cancelledThreads != 0) {
                        LOCK.wait();
                        continue;
                    }
                    long waited = System.nanoTime() - quietSinceNanos;
                    if (waited < quietNanos) {
                        TimeUnit.NANOSECONDS.timedWait(LOCK, quietNanos - waited);
                        continue;
                    }
                    retarget(IDLE);
                    armed = false;
                    lastDisarmNanos = System.nanoTime();
                } catch (InterruptedException e) {
                    // nobody else interrupts this thread; keep serving until disarmed
                }
            }
        }
    }

    /** For tests and diagnostics: cancelled scopes in flight. */
    public static int pendingCount() {
        return pending;
    }

    /** For tests and diagnostics: whether woven polls currently check for cancellation. */
    public static boolean isArmed() {
        synchronized (LOCK) {
            return armed;
        }
    }

    /** For tests and diagnostics: how often the poll site changed target (each one deoptimizes). */
    public static long targetChanges() {
        synchronized (LOCK) {
            return flips;
        }
    }
}
