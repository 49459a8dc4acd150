package dev.usethread.internal;

import dev.usethread.CancelledSignal;
import java.util.concurrent.RunnableScheduledFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Cancellation follows the work: a task that a thread inside a cancellation scope hands to another
 * thread (a pool) runs there under a child scope, which is cancelled when any scope that was active
 * on the submitting thread is. The agent calls the hooks below from the JDK's executors (see the
 * agent's {@code handoff} package); without the agent nothing calls them.
 *
 * <p>The token is the submitting thread's innermost active scope (its enclosing scopes are reachable
 * from it). Tokens of queued tasks live in a side table keyed by task identity with weak keys, so a
 * task run by another executor than the one it was submitted to still finds its token.
 *
 * <p>A pool thread is clean after the task: the child scope is exited (which clears the interrupt
 * it caused and disarms its polls), and its cancel action is removed from the captured scopes, so a
 * job that forks a million tasks never holds more actions than it has tasks running.
 *
 * <p>No lambdas and no string concatenation by {@code +} here: these methods run inside the JDK's
 * concurrency classes and must not bootstrap {@code invokedynamic} call sites there.
 */
public final class Inheritance {
    private static final TaskTokens TOKENS = new TaskTokens();
    /** The innermost handle entered by {@link #beforeRun} on this thread. */
    private static final ThreadLocal<Handle> RUNNING = new ThreadLocal<>();
    /** Handles entered by {@link #beforeRun} and not yet left, over all threads: 0 makes afterRun free. */
    private static final AtomicInteger RUNNING_COUNT = new AtomicInteger();
    /** Set on a thread while it submits work that must not inherit (the runtime's own deliveries). */
    private static final ThreadLocal<Boolean> DETACHED = new ThreadLocal<>();
    private static final String SUFFIX = " was cancelled";

    private Inheritance() {
    }

    /**
     * An opaque token for the current thread's active cancellation scopes, or null when it is in
     * none (the fast path: one thread-local look-up). Work handed off from a shielded region, or
     * while a cancellation signal unwinds the thread (from a {@code finally} block), is cleanup and
     * does not inherit.
     */
    public static Object capture() {
        ThreadState state = ThreadState.peek();
        if (state == null) {
            return null;
        }
        CancelScope top = state.top;
        if (top == null || state.shieldDepth > 0 || state.isUnwinding() || DETACHED.get() != null) {
            return null;
        }
        return top;
    }

    /**
     * Runs the current thread under a child scope of the scopes {@code token} captured: cancelled
     * when any of them is, at once if one already is. Returns the handle for {@link #exit}, or null
     * if there is nothing to do (no token, or the thread already runs under those scopes: a task run
     * by the thread that forked it).
     */
    public static Object enter(Object token) {
        if (token == null) {
            return null;
        }
        if (!(token instanceof CancelScope)) {
            throw new IllegalArgumentException("not a token from Inheritance.capture(): ".concat(String.valueOf(token)));
        }
        return enter((CancelScope) token, null);
    }

    /** Leaves what {@link #enter} entered; null is allowed (nothing was entered). */
    public static void exit(Object handle) {
        if (handle != null) {
            ((Handle) handle).exit();
        }
    }

    /** Runs {@code submission} so that the work it hands off does not inherit this thread's scopes. */
    public static void runDetached(Runnable submission) {
        Boolean was = DETACHED.get();
        DETACHED.set(Boolean.TRUE);
        try {
            submission.run();
        } finally {
            if (was == null) {
                DETACHED.remove();
            }
        }
    }

    /** Like {@link #runDetached}, for a submission that returns something (a future). */
    public static <T> T detached(Supplier<T> submission) {
        Boolean was = DETACHED.get();
        DETACHED.set(Boolean.TRUE);
        try {
            return submission.get();
        } finally {
            if (was == null) {
                DETACHED.remove();
            }
        }
    }

    // ---- hooks woven into the JDK ----

    /** At a submission ({@code execute}, a ForkJoin queue push): remembers the submitter's scopes for {@code task}. */
    public static void captureFor(Object task) {
        try {
            Object token = capture();
            if (token != null) {
                TOKENS.put(task, token);
            } else if (!TOKENS.isEmpty()) {
                TOKENS.take(task); // submitted again outside any scope: it runs as it was submitted last
            }
        } catch (Throwable t) {
            // never break a JDK submission; the task runs without inheritance
        }
    }

    /** Before a ForkJoinTask's {@code exec()}: enters the scope it inherited, if any. */
    public static void beforeRun(Object task) {
        if (TOKENS.isEmpty()) {
            return;
        }
        Object token = TOKENS.take(task);
        if (token == null) {
            return;
        }
        Handle h = enter((CancelScope) token, task);
        if (h != null) {
            RUNNING_COUNT.incrementAndGet();
            h.previous = RUNNING.get();
            RUNNING.set(h);
        }
    }

    /**
     * After a ForkJoinTask's {@code exec()} returned or threw (woven at both places): leaves what
     * {@link #beforeRun} entered for this task, before the task records its outcome.
     */
    public static void afterRun(Object task) {
        if (RUNNING_COUNT.get() == 0) {
            return;
        }
        Handle h = RUNNING.get();
        if (h == null || h.task != task) {
            return;
        }
        if (h.previous == null) {
            RUNNING.remove();
        } else {
            RUNNING.set(h.previous);
        }
        RUNNING_COUNT.decrementAndGet();
        h.exit();
    }

    /**
     * Replaces {@code task.run()} in ThreadPoolExecutor's worker loop. A signal of the inherited
     * scope that escapes the task ends the task, not the worker: the pool keeps serving (a
     * FutureTask has already stored it as its outcome; a plain Runnable's is dropped here).
     */
    public static void run(Runnable task) {
        Object token = TOKENS.isEmpty() ? null : tokenOf(task);
        Handle h = token == null ? null : enter((CancelScope) token, task);
        if (h == null) {
            task.run();
            return;
        }
        runUnder(h, task);
    }

    /** For executors that start a thread per task: {@code task}, or a wrapper that runs it under the submitter's scopes. */
    public static Runnable wrap(Runnable task) {
        Object token = capture();
        return token == null || task == null ? task : new Inheriting((CancelScope) token, task);
    }

    /** For tests and diagnostics: tasks whose tokens wait to be run. */
    public static int pendingTokens() {
        return TOKENS.size();
    }

    private static Object tokenOf(Runnable task) {
        if (task instanceof RunnableScheduledFuture && ((RunnableScheduledFuture<?>) task).isPeriodic()) {
            return TOKENS.get(task); // runs again: every run inherits
        }
        return TOKENS.take(task);
    }

    private static void runUnder(Handle h, Runnable task) {
        try {
            task.run();
        } catch (CancelledSignal signal) {
            if (!h.child.isSet()) {
                throw signal;
            }
            // The inherited cancellation stopped the task: it is done, the thread is not.
        } finally {
            h.exit();
        }
    }

    private static Handle enter(CancelScope origin, Object task) {
        ThreadState state = ThreadState.current();
        for (CancelScope s = state.top; s != null; s = s.parent()) {
            if (s == origin) {
                return null;
            }
        }
        int n = 0;
        boolean intrusive = false;
        CancelScope outermost = origin;
        for (CancelScope s = origin; s != null; s = s.parent()) {
            n++;
            intrusive |= s.intrusive();
            outermost = s;
        }
        CancelScope[] sources = new CancelScope[n];
        int i = 0;
        for (CancelScope s = origin; s != null; s = s.parent()) {
            sources[i++] = s;
        }
        String message = outermost.signalMessage();
        if (message.endsWith(SUFFIX)) {
            message = message.substring(0, message.length() - SUFFIX.length());
        }
        CancelScope child = new CancelScope(message.concat(", in work it handed to another thread,"), intrusive);
        Handle h = new Handle(child, sources, task);
        boolean cancelNow = false;
        for (CancelScope s : sources) {
            if (!s.addRemovableAction(h)) {
                cancelNow = true;
            }
        }
        if (cancelNow) {
            child.cancel();
        }
        child.enter();
        return h;
    }

    /** One entered child scope; as a Runnable it is the cancel action registered with the captured scopes. */
    private static final class Handle implements Runnable {
        final CancelScope child;
        final CancelScope[] sources;
        final Object task;
        Handle previous;

        Handle(CancelScope child, CancelScope[] sources, Object task) {
            this.child = child;
            this.sources = sources;
            this.task = task;
        }

        @Override
        public void run() {
            child.cancel();
        }

        void exit() {
            try {
                child.exit();
            } finally {
                for (CancelScope s : sources) {
                    s.removeAction(this);
                }
            }
        }
    }

    /** A task for a thread of its own, carrying the submitter's token. */
    private static final class Inheriting implements Runnable {
        private final CancelScope origin;
        private final Runnable task;

        Inheriting(CancelScope origin, Runnable task) {
            this.origin = origin;
            this.task = task;
        }

        @Override
        public void run() {
            Handle h = enter(origin, task);
            if (h == null) {
                task.run();
            } else {
                runUnder(h, task);
            }
        }
    }
}
