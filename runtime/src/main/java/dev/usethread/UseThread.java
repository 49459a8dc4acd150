package dev.usethread;

import dev.usethread.internal.CancelScope;
import dev.usethread.internal.Inheritance;
import dev.usethread.internal.Events;
import dev.usethread.internal.StuckThreads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A job whose callback runs in a background thread, modelled on Solara's {@code use_thread}: one
 * per "hook call site". Each start is a <em>run</em>; the job's {@link #result() snapshot} moves
 * through {@link ResultState}s, and only the current run may change it.
 *
 * <p>Guarantees: two callbacks of one {@code UseThread} never run at the same time (a new run
 * WAITs for the previous run's thread to end); a superseded run's late value, error or state never
 * shows; a run superseded while WAITING never calls its callback; CANCELLED is published only after
 * the callback has stopped; a value returned after cancellation was requested is discarded.
 *
 * <p>All methods are thread-safe.
 *
 * @param <T> the type of the callback's value
 */
public final class UseThread<T> implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dev.usethread");
    private static final AtomicLong JOB_NUMBERS = new AtomicLong();

    /** The callback in one shape: emitted values and returned value. */
    private interface Body<T> {
        T run(CancelEvent cancel, Emitter<T> emitter) throws Exception;
    }

    private final String name;
    private final boolean intrusive;
    private final boolean streaming;
    private final ThreadFactory threadFactory;
    private final Executor listenerExecutor;
    private final Duration closeTimeout;
    private final Body<T> body;

    private final Object lock = new Object();
    private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();
    // Guarded by lock:
    private Result<T> snapshot;
    private Run current;
    /** The run whose thread may call (or is calling) the callback; released when that thread ends. */
    private Run callbackHolder;
    private Object[] dependencies;
    private boolean closed;
    private long runCount;
    private final Set<Thread> threads = new LinkedHashSet<>();

    private final class Run {
        final long id;
        final CancelScope scope;
        Thread thread;
        boolean cancelRequested;
        boolean ended;

        Run(long id) {
            this.id = id;
            this.scope = new CancelScope("usethread job '" + name + "' run " + id, intrusive);
        }
    }

    private UseThread(Options options, Body<T> body, boolean streaming) {
        this.name = options.name != null ? options.name : "job-" + JOB_NUMBERS.incrementAndGet();
        this.intrusive = options.intrusive;
        this.threadFactory = options.threadFactory != null ? options.threadFactory : daemonThreads(this.name);
        this.listenerExecutor = options.listenerExecutor;
        this.closeTimeout = options.closeTimeout;
        this.dependencies = options.dependencies.clone();
        this.body = body;
        this.streaming = streaming;
        this.snapshot = new Result<>(this, 0, ResultState.INITIAL, null, null);
    }

    // ---- factories ----

    /**
     * Starts a job whose callback receives its {@link CancelEvent}. Default {@link Options}.
     *
     * @param <T> the type of the callback's value
     * @param job the callback
     * @return the new job, its first run started
     */
    public static <T> UseThread<T> useThread(Job<T> job) {
        return options().useThread(job);
    }

    /**
     * Starts a job whose callback takes nothing. Default {@link Options}.
     *
     * @param <T> the type of the callback's value
     * @param task the callback
     * @return the new job, its first run started
     */
    public static <T> UseThread<T> useThread(Task<T> task) {
        return options().useThread(task);
    }

    /**
     * Starts a job that emits partial values. Default {@link Options}.
     *
     * @param <T> the type of the emitted values
     * @param job the callback
     * @return the new job, its first run started
     */
    public static <T> UseThread<T> useThread(StreamingJob<T> job) {
        return options().useThread(job);
    }

    /**
     * Options for a new job: name, intrusive cancellation, thread factory, listener executor.
     *
     * @return new options with the defaults
     */
    public static Options options() {
        return new Options();
    }

    // ---- queries ----

    /**
     * The current snapshot.
     *
     * @return the current snapshot
     */
    public Result<T> result() {
        synchronized (lock) {
            return snapshot;
        }
    }

    /**
     * The job's name: the one given to {@link Options#name}, else {@code job-<n>}.
     *
     * @return the job's name
     */
    public String name() {
        return name;
    }

    /**
     * True once {@link #close()} was called.
     *
     * @return whether the job is closed
     */
    public boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    // ---- control ----

    /**
     * Restarts the job if {@code dependencies} differ from the last ones (element-wise
     * {@code equals}, arrays compared deeply). Returns the snapshot: already STARTING if the job
     * restarted, so the previous dependencies' result is never shown as current.
     *
     * @param dependencies the new dependencies
     * @return the current snapshot, STARTING if the job restarted
     * @throws IllegalStateException after {@link #close()}
     */
    public Result<T> setDependencies(Object... dependencies) {
        Objects.requireNonNull(dependencies, "dependencies");
        return restart(dependencies.clone(), true);
    }

    /**
     * Cancels the current run (if any) and starts a new one; returns the STARTING snapshot.
     *
     * @return the new run's STARTING snapshot
     */
    public Result<T> retry() {
        return restart(null, false);
    }

    /**
     * Requests cancellation of the current run. The state becomes CANCELLED once its callback has
     * stopped. Does nothing if no run is active, or after {@link #close()}.
     *
     * @return the current snapshot
     */
    public Result<T> cancel() {
        return cancelRun(-1);
    }

    Result<T> cancelRun(long runId) {
        Run run;
        synchronized (lock) {
            run = current;
            if (run == null || (runId >= 0 && run.id != runId) || !requestCancel(run)) {
                return snapshot;
            }
        }
        run.scope.cancel();
        dispatch();
        return result();
    }

    /**
     * Waits until the snapshot is FINISHED, ERROR or CANCELLED and returns it.
     *
     * @param timeout how long to wait at most
     * @return the FINISHED, ERROR or CANCELLED snapshot
     * @throws InterruptedException if the calling thread is interrupted while it waits
     * @throws TimeoutException if that did not happen within {@code timeout}; if the run was
     *     cancelled and its thread is still alive, the message says where that thread is stuck and
     *     what would stop it
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    public Result<T> await(Duration timeout) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + nanos(timeout, "timeout");
        ResultState state;
        Run stuck;
        synchronized (lock) {
            while (!snapshot.state().isTerminal()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
            if (snapshot.state().isTerminal()) {
                return snapshot;
            }
            state = snapshot.state();
            // The run that holds the callback (the current one, or a superseded one the current waits for).
            stuck = callbackHolder != null && callbackHolder.cancelRequested ? callbackHolder : null;
        }
        Thread thread = stuck == null ? null : stuck.thread;
        String why = thread == null || !thread.isAlive() ? ""
                : "; run " + stuck.id + " was cancelled but has not stopped: " + StuckThreads.explain(thread, intrusive);
        throw new TimeoutException("usethread job '" + name + "' did not end within " + timeout + "; it is " + state
                + why);
    }

    /**
     * Delivers every snapshot from now on, in order, to {@code listener} on the job's listener
     * executor (by default the thread that made the change). The current snapshot is delivered
     * first. A listener that throws is logged and keeps receiving later snapshots.
     *
     * @param listener receives the snapshots
     * @return the subscription; closing it stops the deliveries
     */
    public Subscription subscribe(Consumer<? super Result<T>> listener) {
        return subscribe(listener, listenerExecutor);
    }

    /**
     * Like {@link #subscribe(Consumer)}, delivering on {@code executor} (a UI thread, say).
     *
     * @param listener receives the snapshots
     * @param executor runs the listener
     * @return the subscription; closing it stops the deliveries
     */
    public Subscription subscribe(Consumer<? super Result<T>> listener, Executor executor) {
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(executor, "executor");
        Subscriber subscriber = new Subscriber(listener, executor);
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("usethread job '" + name + "' is closed");
            }
            subscriber.queue.add(snapshot);
            subscribers.add(subscriber);
        }
        subscriber.schedule();
        return subscriber;
    }

    /**
     * Cancels the current run and waits for every thread of this job to end (at most the
     * {@linkplain Options#closeTimeout close timeout}). Afterwards {@link #cancel()} and close()
     * do nothing, {@link #result()} and {@link #await} still work, and {@link #retry()},
     * {@link #setDependencies} and {@link #subscribe} throw {@link IllegalStateException}.
     *
     * @throws IllegalStateException if a thread did not stop in time: the message says where it is
     *     stuck and what would stop it ({@code jdk=<package>}, {@code onCancel}, the agent), its
     *     cause holds the thread's stack; it is still cancelled and may stop later
     */
    @Override
    public void close() {
        Run run = null;
        List<Thread> toJoin;
        synchronized (lock) {
            if (!closed) {
                closed = true;
                run = current;
                if (run != null && !requestCancel(run)) {
                    run = null;
                }
            }
            toJoin = new ArrayList<>(threads);
        }
        if (run != null) {
            run.scope.cancel();
        }
        dispatch();
        long deadline = System.nanoTime() + closeTimeout.toNanos();
        boolean interrupted = false;
        for (Thread thread : toJoin) {
            if (thread == Thread.currentThread()) {
                continue; // close() from a listener running on the job's own thread
            }
            while (thread.isAlive()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    IllegalStateException e = new IllegalStateException("usethread job '" + name + "' did not stop within "
                            + closeTimeout + " after cancellation: "
                            + StuckThreads.explain(thread, intrusive));
                    Throwable where = new Throwable("stack of " + thread.getName());
                    where.setStackTrace(thread.getStackTrace());
                    e.initCause(where);
                    throw e;
                }
                try {
                    TimeUnit.NANOSECONDS.timedJoin(thread, left);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- the run's life ----

    private Result<T> restart(Object[] newDependencies, boolean onlyIfChanged) {
        Run previous;
        Result<T> started;
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("usethread job '" + name + "' is closed");
            }
            if (onlyIfChanged && Arrays.deepEquals(dependencies, newDependencies)) {
                return snapshot;
            }
            if (newDependencies != null) {
                dependencies = newDependencies;
            }
            previous = current;
            if (previous != null && !requestCancel(previous)) {
                previous = null;
            }
            Run run = new Run(++runCount);
            current = run;
            publish(ResultState.STARTING, snapshot.value(), snapshot.error());
            started = snapshot;
            startThread(run);
        }
        if (previous != null) {
            previous.scope.cancel();
        }
        dispatch();
        return started;
    }

    private void start() {
        restart(null, false);
    }

    /** Marks a run cancelled (under lock); the caller then calls run.scope.cancel() outside it. */
    private boolean requestCancel(Run run) {
        if (run.ended || run.cancelRequested) {
            return false;
        }
        run.cancelRequested = true;
        lock.notifyAll(); // wakes a WAITING run even when cancellation is not intrusive
        return true;
    }

    private void startThread(Run run) {
        Thread thread = null;
        try {
            thread = threadFactory.newThread(() -> runThread(run));
            if (thread == null) {
                throw new IllegalStateException("the ThreadFactory of usethread job '" + name + "' returned null");
            }
            run.thread = thread;
            threads.add(thread);
            thread.start();
        } catch (Throwable e) {
            if (thread != null) {
                threads.remove(thread);
            }
            run.ended = true;
            publish(ResultState.ERROR, snapshot.value(), e);
        }
    }

    /**
     * The run's thread. Whatever the callback, its listeners or a log backend throw, the run ends
     * in a final state and its thread is released: the bookkeeping below runs outside the run's
     * scope, so no cancellation signal reaches it.
     */
    private void runThread(Run run) {
        T value = null;
        Throwable error = null;
        boolean called = false;
        run.scope.enter();
        try {
            if (awaitTurn(run)) {
                called = true;
                value = body.run(run.scope.event(), emitter(run));
            }
        } catch (Throwable t) {
            called = true; // the callback threw, or (never expected) the runtime did before it
            error = t;
        }
        try {
            run.scope.exit(); // polls stop throwing; our own interrupt is cleared
        } catch (IllegalStateException misnested) {
            // the callback left a scope of its own entered; the run still ends
            if (error == null) {
                error = misnested;
            }
        }
        Events.Pending cancelled = null;
        try {
            if (called) {
                cancelled = finish(run, value, error);
            }
        } finally {
            try {
                dispatch();
            } finally {
                synchronized (lock) {
                    if (callbackHolder == run) {
                        callbackHolder = null;
                    }
                    run.ended = true;
                    threads.remove(Thread.currentThread());
                    lock.notifyAll();
                }
                if (cancelled != null) {
                    cancelled.commit();
                }
            }
        }
    }

    /** Waits for the callback slot; false if the run was cancelled before it got it. */
    private boolean awaitTurn(Run run) {
        while (true) {
            boolean published = false;
            synchronized (lock) {
                if (run.cancelRequested) {
                    run.ended = true;
                    if (current == run) {
                        publish(ResultState.CANCELLED, snapshot.value(), snapshot.error());
                    }
                    return false;
                }
                if (callbackHolder == null) {
                    callbackHolder = run;
                    publish(ResultState.RUNNING, snapshot.value(), snapshot.error());
                    published = true;
                } else if (current == run && snapshot.state() != ResultState.WAITING) {
                    publish(ResultState.WAITING, snapshot.value(), snapshot.error());
                    published = true;
                } else {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        // A cancellation interrupts; the loop looks at cancelRequested again.
                    }
                }
            }
            if (published) {
                dispatch();
                synchronized (lock) {
                    if (callbackHolder == run) {
                        return true;
                    }
                }
            }
        }
    }

    /** Publishes the run's outcome; returns the JFR event to commit outside the lock, if any. */
    private Events.Pending finish(Run run, T value, Throwable error) {
        synchronized (lock) {
            run.ended = true;
            if (current != run) {
                return null; // superseded: its outcome never shows
            }
            if (run.cancelRequested) {
                publish(ResultState.CANCELLED, snapshot.value(), snapshot.error());
                return Events.pendingCancelled("job", name + " run " + run.id, run.scope.cancelRequestedNanos(),
                        run.scope.firstSignal() != null ? run.scope.firstSignal() : error);
            } else if (error != null) {
                publish(ResultState.ERROR, snapshot.value(), error);
            } else {
                publish(ResultState.FINISHED, streaming ? snapshot.value() : value, null);
            }
            return null;
        }
    }

    private Emitter<T> emitter(Run run) {
        return value -> {
            boolean cancelled;
            synchronized (lock) {
                cancelled = run.cancelRequested;
                if (!cancelled && current == run && !run.ended && snapshot.state() == ResultState.RUNNING) {
                    publish(ResultState.RUNNING, value, snapshot.error());
                }
            }
            if (cancelled && Thread.currentThread() == run.thread) {
                run.scope.throwIfSet();
            }
            dispatch();
        };
    }

    /** Replaces the snapshot and queues it for every subscriber (under lock, so in order). */
    private void publish(ResultState state, T value, Throwable error) {
        snapshot = new Result<>(this, current == null ? 0 : current.id, state, value, error);
        for (Subscriber s : subscribers) {
            s.queue.add(snapshot);
        }
        lock.notifyAll();
    }

    /** Hands queued snapshots to the listeners' executors; called outside the lock. */
    private void dispatch() {
        for (Subscriber s : subscribers) {
            s.schedule();
        }
    }

    private final class Subscriber implements Subscription {
        final Consumer<? super Result<T>> listener;
        final Executor executor;
        final ConcurrentLinkedQueue<Result<T>> queue = new ConcurrentLinkedQueue<>();
        final AtomicBoolean scheduled = new AtomicBoolean();
        volatile boolean closed;

        Subscriber(Consumer<? super Result<T>> listener, Executor executor) {
            this.listener = listener;
            this.executor = executor;
        }

        void schedule() {
            if (queue.isEmpty() || !scheduled.compareAndSet(false, true)) {
                return;
            }
            try (CancelScope.Shield ignored = CancelScope.shield()) {
                // Deliveries are the runtime's own work: they never inherit the submitting run's cancellation.
                Inheritance.runDetached(() -> executor.execute(this::drain));
            } catch (Throwable e) {
                scheduled.set(false);
                LOG.log(System.Logger.Level.WARNING, "listener executor of usethread job '" + name
                        + "' rejected a delivery; it is retried at the next change", e);
            }
        }

        void drain() {
            do {
                Result<T> next;
                while ((next = queue.poll()) != null) {
                    if (!closed) {
                        deliver(next);
                    }
                }
                scheduled.set(false);
            } while (!queue.isEmpty() && scheduled.compareAndSet(false, true));
        }

        /**
         * Shielded: a listener may run on a cancelled run's own thread (the default executor), and
         * neither it nor the log backend that reports its failure may lose the snapshot to the signal.
         */
        private void deliver(Result<T> result) {
            try (CancelScope.Shield ignored = CancelScope.shield()) {
                listener.accept(result);
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.WARNING, "a listener of usethread job '" + name
                        + "' threw; the job and the other listeners go on", t);
            }
        }

        @Override
        public void close() {
            closed = true;
            subscribers.remove(this);
        }
    }

    private static ThreadFactory daemonThreads(String name) {
        AtomicInteger count = new AtomicInteger();
        return task -> {
            Thread thread = new Thread(task, "usethread-" + name + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    private static long nanos(Duration duration, String what) {
        Objects.requireNonNull(duration, what);
        if (duration.isNegative()) {
            throw new IllegalArgumentException(what + " must not be negative: " + duration);
        }
        try {
            return duration.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 2;
        }
    }

    /** Options for a new {@link UseThread}; each {@code useThread} call copies them. */
    public static final class Options {
        private String name;
        private boolean intrusive = true;
        private ThreadFactory threadFactory;
        private Executor listenerExecutor = Runnable::run;
        private Object[] dependencies = new Object[0];
        private Duration closeTimeout = Duration.ofSeconds(30);

        private Options() {
        }

        /**
         * The job's name, used in thread names, messages and logs.
         *
         * @param name the job's name; not blank
         * @return these options
         */
        public Options name(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("name must not be blank: '" + name + "'");
            }
            this.name = name;
            return this;
        }

        /**
         * Whether cancellation is intrusive (default true): woven polls throw
         * {@link CancelledSignal} and the thread is interrupted. When false, the callback is only
         * told through its {@link CancelEvent}, {@link Cancellation#checkpoint()} and emitting.
         *
         * @param intrusive whether cancellation is intrusive
         * @return these options
         */
        public Options intrusive(boolean intrusive) {
            this.intrusive = intrusive;
            return this;
        }

        /**
         * The factory for run threads, for example {@code Thread.ofVirtual().factory()}. Default:
         * daemon platform threads named {@code usethread-<name>-<n>}.
         *
         * @param threadFactory makes the run threads
         * @return these options
         */
        public Options threadFactory(ThreadFactory threadFactory) {
            this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
            return this;
        }

        /**
         * Where listeners run unless {@code subscribe} names an executor. Default: the calling thread.
         *
         * @param listenerExecutor runs the listeners
         * @return these options
         */
        public Options listenerExecutor(Executor listenerExecutor) {
            this.listenerExecutor = Objects.requireNonNull(listenerExecutor, "listenerExecutor");
            return this;
        }

        /**
         * The first dependencies; {@link UseThread#setDependencies} compares with these.
         *
         * @param dependencies the first dependencies
         * @return these options
         */
        public Options dependencies(Object... dependencies) {
            this.dependencies = Objects.requireNonNull(dependencies, "dependencies").clone();
            return this;
        }

        /**
         * How long {@link UseThread#close()} waits for the job's threads (default 30 s).
         *
         * @param closeTimeout how long close() waits; not negative
         * @return these options
         */
        public Options closeTimeout(Duration closeTimeout) {
            nanos(closeTimeout, "closeTimeout");
            this.closeTimeout = closeTimeout;
            return this;
        }

        /**
         * Starts a job with these options whose callback receives its {@link CancelEvent}.
         *
         * @param <T> the type of the callback's value
         * @param job the callback
         * @return the new job, its first run started
         */
        public <T> UseThread<T> useThread(Job<T> job) {
            Objects.requireNonNull(job, "job");
            return begin(new UseThread<T>(this, (cancel, emitter) -> job.run(cancel), false));
        }

        /**
         * Starts a job with these options whose callback takes nothing.
         *
         * @param <T> the type of the callback's value
         * @param task the callback
         * @return the new job, its first run started
         */
        public <T> UseThread<T> useThread(Task<T> task) {
            Objects.requireNonNull(task, "task");
            return begin(new UseThread<T>(this, (cancel, emitter) -> task.call(), false));
        }

        /**
         * Starts a job with these options that emits partial values.
         *
         * @param <T> the type of the emitted values
         * @param job the callback
         * @return the new job, its first run started
         */
        public <T> UseThread<T> useThread(StreamingJob<T> job) {
            Objects.requireNonNull(job, "job");
            return begin(new UseThread<T>(this, (cancel, emitter) -> {
                job.run(cancel, emitter);
                return null;
            }, true));
        }

        private static <T> UseThread<T> begin(UseThread<T> job) {
            job.start();
            return job;
        }
    }
}
