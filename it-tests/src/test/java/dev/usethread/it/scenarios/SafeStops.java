package dev.usethread.it.scenarios;

import dev.usethread.Cancellation;
import dev.usethread.CancelledSignal;
import dev.usethread.DeadlineExceededException;
import dev.usethread.Result;
import dev.usethread.ResultState;
import dev.usethread.UseThread;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Safe stops with the real agent: this class is woven (entry and back-edge polls, handler and throw
 * hooks), so its finally blocks, helpers and handlers are what an application's are. Modes:
 * <ul>
 * <li>{@code h2}: an endless query in embedded H2 cancelled at random points, 100 times in a row;
 * each time the same connection must answer a query within 2 s (H2 releases its session lock in a
 * {@code finally} through woven code);</li>
 * <li>{@code lock}: a lock released in {@code finally} through a woven helper is free after the cancel;</li>
 * <li>{@code swallow}: a retry loop that catches Throwable and logs through woven code, and a
 * Failsafe-style retry with backoff, are still stopped, and their logging ran whole;</li>
 * <li>{@code plugins}: a reflective plugin host that catches Throwable around {@code Method.invoke}
 * and goes on with the next plugin is still stopped;</li>
 * <li>{@code entryline}: a recursion without loops stopped by a deadline (so at a method entry) reports
 * the method's line.</li>
 * <li>{@code pools}: four threads borrow H2 connections from HikariCP and from Commons DBCP under short
 * random deadlines, hundreds of times; deadlines land inside the pools' borrow and close too. Every
 * connection must be back in its pool and the pool must still serve (a borrow or close cut short
 * would leak the connection: DBCP lost all of its connections within a few hundred such
 * deadlines before the weaver let acquisition and release finish).</li>
 * <li>{@code caches}: four threads read Guava and Caffeine loading caches under short random
 * deadlines that land in the loaders; afterwards every key loads (a load cut short must not leave
 * its key blocked, nor the cache spinning: woven, Guava's cache left a key loading for ever, and
 * Caffeine's write buffer a claimed, empty slot that {@code invalidateAll} waited for for ever, so
 * the agent never weaves either; the loaders are woven).</li>
 * </ul>
 * Prints {@code KEY value} lines from the main thread only.
 */
public final class SafeStops {
    static final Duration BOUND = Duration.ofSeconds(30);
    static volatile long sink;

    public static void main(String[] args) throws Exception {
        Harness.report("INTRUSIVE", String.valueOf(Cancellation.isIntrusive()));
        switch (args[0]) {
            case "h2":
                h2();
                break;
            case "lock":
                lock();
                break;
            case "swallow":
                swallow();
                break;
            case "plugins":
                plugins();
                break;
            case "entryline":
                entryLine();
                break;
            case "callbacks":
                callbacks();
                break;
            case "pools":
                pools();
                break;
            case "caches":
                caches();
                break;
            default:
                Harness.fail("unknown mode " + args[0]);
        }
        Harness.ok();
    }

    // ---- h2 ----

    static final String ENDLESS = "SELECT COUNT(*) FROM SYSTEM_RANGE(1, 9000000000000000000) WHERE MOD(X, 7) = 3";

    static void h2() throws Exception {
        Random rnd = new Random(Long.getLong("seed", 7));
        try (Connection c = DriverManager.getConnection("jdbc:h2:mem:safestops;DB_CLOSE_DELAY=-1")) {
            long worstAnswerNanos = 0;
            for (int round = 0; round < 100; round++) {
                UseThread<Object> job = UseThread.useThread(() -> {
                    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(ENDLESS)) {
                        rs.next();
                        return rs.getLong(1);
                    }
                });
                awaitState(job, ResultState.RUNNING);
                spin(rnd.nextInt(20_000_000)); // a random point of the query
                job.cancel();
                Result<Object> end = job.await(BOUND);
                if (end.state() != ResultState.CANCELLED) {
                    Harness.fail("round " + round + " ended " + end);
                }
                job.close();
                long t0 = System.nanoTime();
                CompletableFuture<Long> answer = CompletableFuture.supplyAsync(() -> selectOne(c));
                try {
                    if (answer.get(2, TimeUnit.SECONDS) != 1L) {
                        Harness.fail("round " + round + ": wrong answer");
                    }
                } catch (java.util.concurrent.TimeoutException e) {
                    Harness.fail("round " + round + ": the connection did not answer within 2 s after the cancel");
                }
                worstAnswerNanos = Math.max(worstAnswerNanos, System.nanoTime() - t0);
            }
            Harness.report("ROUNDS", "100");
            Harness.report("WORST_ANSWER_MS", String.valueOf(TimeUnit.NANOSECONDS.toMillis(worstAnswerNanos)));
        }
    }

    static long selectOne(Connection c) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
            rs.next();
            return rs.getLong(1);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- lock ----

    static final ReentrantLock LOCK = new ReentrantLock();

    /** A woven helper with an entry poll and a loop, called from finally: it used to get the signal. */
    static void release(ReentrantLock lock, AtomicInteger released) {
        for (int i = 0; i < 1000; i++) {
            sink += i;
        }
        lock.unlock();
        released.incrementAndGet();
    }

    static void lock() throws Exception {
        for (int round = 0; round < 20; round++) {
            AtomicInteger released = new AtomicInteger();
            UseThread<Object> job = UseThread.useThread(() -> {
                LOCK.lock();
                try {
                    return burn();
                } finally {
                    release(LOCK, released);
                }
            });
            awaitState(job, ResultState.RUNNING);
            spin(1_000_000);
            job.cancel();
            expectCancelled(job, "lock round " + round);
            CompletableFuture<Boolean> other = CompletableFuture.supplyAsync(() -> {
                try {
                    boolean got = LOCK.tryLock(2, TimeUnit.SECONDS);
                    if (got) {
                        LOCK.unlock();
                    }
                    return got;
                } catch (InterruptedException e) {
                    return false;
                }
            });
            if (!other.get(10, TimeUnit.SECONDS) || released.get() != 1) {
                Harness.fail("lock round " + round + ": lock still held, helper finished " + released.get() + " times");
            }
        }
        Harness.report("LOCK_RELEASED", "20");
    }

    // ---- swallowers ----

    static void log(Throwable t, AtomicInteger logged) {
        StringBuilder line = new StringBuilder("swallowed ").append(t);
        for (int i = 0; i < 200; i++) {
            line.append('.');
        }
        sink += line.length();
        logged.incrementAndGet();
    }

    static void swallow() throws Exception {
        AtomicInteger swallowed = new AtomicInteger();
        AtomicInteger logged = new AtomicInteger();
        UseThread<Object> careless = UseThread.useThread(() -> {
            while (true) {
                try {
                    burn();
                } catch (Throwable t) {
                    swallowed.incrementAndGet();
                    log(t, logged);
                }
            }
        });
        awaitState(careless, ResultState.RUNNING);
        spin(5_000_000);
        careless.cancel();
        expectCancelled(careless, "catch-Throwable retry loop");
        if (swallowed.get() < 1 || logged.get() != swallowed.get()) {
            Harness.fail("swallowed " + swallowed + " logged " + logged);
        }
        Harness.report("SWALLOWED", String.valueOf(swallowed.get()));

        AtomicInteger attempts = new AtomicInteger();
        UseThread<Object> retrying = UseThread.useThread(() -> retryWithBackoff(attempts));
        awaitState(retrying, ResultState.RUNNING);
        spin(5_000_000);
        retrying.cancel();
        expectCancelled(retrying, "retry with backoff");
        Harness.report("RETRY_ATTEMPTS", String.valueOf(attempts.get()));
    }

    /** A Failsafe-style policy: retry any failure after a backoff, for ever. */
    static Object retryWithBackoff(AtomicInteger attempts) {
        for (int attempt = 0; ; attempt++) {
            attempts.incrementAndGet();
            try {
                return burn();
            } catch (Throwable failure) {
                long until = System.nanoTime() + 100_000;
                while (System.nanoTime() < until) {
                    sink++;
                }
            }
        }
    }

    // ---- plugin host ----

    public static final class Plugins {
        public static void spinner() {
            burn();
        }

        public static void quick() {
            sink++;
        }
    }

    static void plugins() throws Exception {
        List<Method> plugins = new ArrayList<>();
        plugins.add(Plugins.class.getMethod("quick"));
        plugins.add(Plugins.class.getMethod("spinner"));
        AtomicInteger failures = new AtomicInteger();
        UseThread<Object> host = UseThread.useThread(() -> {
            while (true) {
                for (Method plugin : plugins) {
                    try {
                        plugin.invoke(null);
                    } catch (Throwable t) { // a plugin failed: report it, go on with the next
                        failures.incrementAndGet();
                    }
                }
            }
        });
        awaitState(host, ResultState.RUNNING);
        spin(5_000_000);
        host.cancel();
        expectCancelled(host, "plugin host");
        Harness.report("PLUGIN_FAILURES", String.valueOf(failures.get()));
    }

    // ---- exact frames ----

    static long fib(int n) {
        return n < 2 ? n : fib(n - 1) + fib(n - 2);
    }

    static void entryLine() throws Exception {
        int fibLine = -1;
        for (int i = 0; i < 20; i++) {
            try {
                Cancellation.withTimeout(Duration.ofMillis(20), () -> fib(90));
                Harness.fail("fib(90) finished");
            } catch (DeadlineExceededException e) {
                StackTraceElement at = e.stoppedAt();
                if (at == null || !at.getMethodName().equals("fib") || at.getLineNumber() <= 0) {
                    Harness.fail("stopped at " + at + "; message " + e.getMessage());
                }
                if (fibLine >= 0 && fibLine != at.getLineNumber()) {
                    Harness.fail("fib stopped at lines " + fibLine + " and " + at.getLineNumber());
                }
                fibLine = at.getLineNumber();
                if (!e.getMessage().contains("SafeStops.java:" + fibLine + ")")) {
                    Harness.fail("message without the line: " + e.getMessage());
                }
            }
        }
        Harness.report("FIB_LINE", String.valueOf(fibLine));
    }

    // ---- woven listeners, cleanup and log backend, as in an application ----

    /** A JUL handler (the backend behind System.Logger here), woven: it polls while it formats. */
    static final class PollingHandler extends java.util.logging.Handler {
        final AtomicInteger started = new AtomicInteger();
        final AtomicInteger finished = new AtomicInteger();

        @Override
        public void publish(java.util.logging.LogRecord record) {
            started.incrementAndGet();
            sink += work(record.getMessage().length());
            finished.incrementAndGet();
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    /**
     * Woven work with a loop: a poll at every iteration. A few thousand, as a formatter or a listener
     * does: a cancelled thread's polls take the slow path while it unwinds (docs/LIMITS.md), and
     * hundreds of thousands of them can outlast the 1 s cleanup budget.
     */
    static long work(int seed) {
        long x = seed;
        for (int i = 0; i < 5_000; i++) {
            x = x * 31 + i;
        }
        return x;
    }

    static void callbacks() throws Exception {
        PollingHandler handler = new PollingHandler();
        java.util.logging.Logger jul = java.util.logging.Logger.getLogger("dev.usethread");
        jul.addHandler(handler);
        jul.setUseParentHandlers(false);
        java.util.logging.Logger.getLogger("dev.usethread.it.cleanup").addHandler(handler);
        System.Logger appLog = System.getLogger("dev.usethread.it.cleanup");
        AtomicInteger bodyEntered = new AtomicInteger();
        AtomicInteger cleanupStarted = new AtomicInteger();
        AtomicInteger cleanupFinished = new AtomicInteger();
        AtomicInteger listenerStarted = new AtomicInteger();
        AtomicInteger listenerFinished = new AtomicInteger();
        java.util.Random random = new java.util.Random(11);
        int rounds = 20;
        for (int round = 0; round < rounds; round++) {
            UseThread<Object> job = UseThread.useThread(() -> {
                // A cancel that comes first stops the job at this lambda's entry poll, before the try:
                // then there is no cleanup to run. No poll lies between this count and the try.
                bodyEntered.incrementAndGet();
                try {
                    return burn();
                } finally { // woven cleanup that logs through the woven backend while the signal unwinds
                    cleanupStarted.incrementAndGet();
                    sink += work(7);
                    appLog.log(System.Logger.Level.INFO, "cleanup after cancel");
                    cleanupFinished.incrementAndGet();
                }
            });
            // A woven listener on the job's own thread that also fails: the runtime logs that, too.
            job.subscribe(r -> {
                listenerStarted.incrementAndGet();
                sink += work(r.state().ordinal());
                listenerFinished.incrementAndGet();
                if (r.state() == ResultState.CANCELLED) {
                    throw new IllegalStateException("listener fails on purpose");
                }
            });
            awaitState(job, ResultState.RUNNING);
            spin(random.nextInt(3_000_000));
            job.cancel();
            expectCancelled(job, "callbacks round " + round);
        }
        if (cleanupStarted.get() != bodyEntered.get() || cleanupFinished.get() != cleanupStarted.get()
                || bodyEntered.get() < rounds / 2) {
            Harness.fail("cleanup started " + cleanupStarted + ", finished " + cleanupFinished + " of "
                    + bodyEntered + " bodies entered in " + rounds + " rounds");
        }
        if (listenerStarted.get() == 0 || listenerFinished.get() != listenerStarted.get()) {
            Harness.fail("listener started " + listenerStarted + ", finished " + listenerFinished);
        }
        if (handler.started.get() < 2 * rounds || handler.finished.get() != handler.started.get()) {
            Harness.fail("log backend started " + handler.started + ", finished " + handler.finished);
        }
        Harness.report("CALLBACKS", cleanupFinished + " " + listenerFinished + " " + handler.finished + " of "
                + bodyEntered);
    }

    // ---- helpers ----

    /** CPU-bound and never checks anything: only the woven polls can stop it. */
    static long burn() {
        long x = 0;
        while (true) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            sink = x;
        }
    }

    // ---- pools ----

    /** A pooled data source, how many of its connections are lent out, and its size. */
    static final class Pool {
        final String name;
        final javax.sql.DataSource source;
        final java.util.function.IntSupplier active;
        final java.util.function.IntSupplier idle;

        Pool(String name, javax.sql.DataSource source, java.util.function.IntSupplier active,
                java.util.function.IntSupplier idle) {
            this.name = name;
            this.source = source;
            this.active = active;
            this.idle = idle;
        }
    }

    static void pools() throws Exception {
        com.zaxxer.hikari.HikariConfig config = new com.zaxxer.hikari.HikariConfig();
        config.setJdbcUrl("jdbc:h2:mem:hikari;DB_CLOSE_DELAY=-1");
        config.setMaximumPoolSize(4);
        config.setMinimumIdle(4);
        config.setConnectionTimeout(BOUND.toMillis());
        com.zaxxer.hikari.HikariDataSource hikari = new com.zaxxer.hikari.HikariDataSource(config);
        org.apache.commons.dbcp2.BasicDataSource dbcp = new org.apache.commons.dbcp2.BasicDataSource();
        dbcp.setUrl("jdbc:h2:mem:dbcp;DB_CLOSE_DELAY=-1");
        dbcp.setMaxTotal(4);
        dbcp.setMaxWait(BOUND);
        List<Pool> pools = List.of(
                new Pool("hikari", hikari, () -> hikari.getHikariPoolMXBean().getActiveConnections(),
                        () -> hikari.getHikariPoolMXBean().getIdleConnections()),
                new Pool("dbcp", dbcp, dbcp::getNumActive, dbcp::getNumIdle));
        int stopped = 0;
        for (Pool pool : pools) {
            try (Connection c = pool.source.getConnection(); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE t(id INT PRIMARY KEY, v VARCHAR(100))");
                st.execute("INSERT INTO t SELECT X, 'v' || X FROM SYSTEM_RANGE(1, 2000)");
            }
            AtomicInteger poolStopped = new AtomicInteger();
            List<Thread> workers = new ArrayList<>();
            List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int w = 0; w < 4; w++) {
                Random random = new Random(w);
                Thread worker = new Thread(() -> {
                    for (int round = 0; round < 150; round++) {
                        long micros = 50 + random.nextInt(3000);
                        try {
                            Cancellation.withTimeout(Duration.ofNanos(micros * 1000), () -> query(pool.source, random));
                        } catch (DeadlineExceededException e) {
                            poolStopped.incrementAndGet();
                        } catch (Throwable t) {
                            failures.add(t);
                        }
                    }
                }, pool.name + "-worker-" + w);
                worker.start();
                workers.add(worker);
            }
            joinAll(workers);
            if (!failures.isEmpty()) {
                failures.get(0).printStackTrace(System.out);
                Harness.fail(pool.name + ": " + failures.size() + " queries failed, first " + failures.get(0));
            }
            long deadline = System.nanoTime() + BOUND.toNanos();
            while (pool.active.getAsInt() != 0 && System.nanoTime() < deadline) {
                TimeUnit.MILLISECONDS.sleep(10);
            }
            if (pool.active.getAsInt() != 0 || pool.idle.getAsInt() != 4) {
                Harness.fail(pool.name + " lost connections: " + pool.active.getAsInt() + " still lent out, "
                        + pool.idle.getAsInt() + " of 4 idle, after " + poolStopped + " stopped queries");
            }
            for (int i = 0; i < 8; i++) {
                query(pool.source, new Random(i));
            }
            stopped += poolStopped.get();
        }
        hikari.close();
        dbcp.close();
        Harness.report("POOL_STOPS", String.valueOf(stopped));
    }

    // ---- caches ----

    static String load(Integer key) {
        long x = key;
        for (int i = 0, n = 20_000 + key * 2_000; i < n; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
        }
        sink = x;
        return "v" + key;
    }

    static void caches() throws Exception {
        com.google.common.cache.LoadingCache<Integer, String> guava = com.google.common.cache.CacheBuilder.newBuilder()
                .maximumSize(50).build(com.google.common.cache.CacheLoader.from(SafeStops::load));
        com.github.benmanes.caffeine.cache.LoadingCache<Integer, String> caffeine =
                com.github.benmanes.caffeine.cache.Caffeine.newBuilder().maximumSize(50).build(SafeStops::load);
        List<java.util.function.Function<Integer, String>> caches = List.of(guava::getUnchecked, caffeine::get);
        AtomicInteger stopped = new AtomicInteger();
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            Random random = new Random(w);
            Thread worker = new Thread(() -> {
                for (int round = 0; round < 200; round++) {
                    java.util.function.Function<Integer, String> cache = caches.get(round % 2);
                    int key = random.nextInt(100);
                    try {
                        Cancellation.withTimeout(Duration.ofNanos(20_000 + random.nextInt(2_000_000)), () -> cache.apply(key));
                    } catch (DeadlineExceededException e) {
                        stopped.incrementAndGet();
                    } catch (RuntimeException | Error e) {
                        // a load another thread's deadline stopped fails for this thread too (docs/LIMITS.md)
                    }
                    if (round % 50 == 0) {
                        guava.invalidateAll();
                        caffeine.invalidateAll();
                    }
                }
            }, "cache-worker-" + w);
            worker.start();
            workers.add(worker);
        }
        joinAll(workers);
        CompletableFuture<Void> everyKey = CompletableFuture.runAsync(() -> {
            for (int key = 0; key < 100; key++) {
                for (java.util.function.Function<Integer, String> cache : caches) {
                    if (!cache.apply(key).equals("v" + key)) {
                        throw new IllegalStateException("key " + key + " loaded wrong");
                    }
                }
            }
        });
        everyKey.get(BOUND.toMillis(), TimeUnit.MILLISECONDS);
        Harness.report("CACHE_STOPS", String.valueOf(stopped.get()));
    }

    static void joinAll(List<Thread> workers) throws InterruptedException {
        for (Thread worker : workers) {
            worker.join(BOUND.toMillis() * 4);
            if (worker.isAlive()) {
                for (java.util.Map.Entry<Thread, StackTraceElement[]> t : Thread.getAllStackTraces().entrySet()) {
                    System.out.println("THREAD " + t.getKey() + " " + t.getKey().getState());
                    for (StackTraceElement e : t.getValue()) {
                        System.out.println("    at " + e);
                    }
                }
                Harness.fail(worker.getName() + " still running");
            }
        }
    }

    /** Borrows a connection, runs a query and some work on its result: what a request handler does. */
    static long query(javax.sql.DataSource source, Random random) throws Exception {
        try (Connection c = source.getConnection();
                java.sql.PreparedStatement ps = c.prepareStatement("SELECT COUNT(*), SUM(LENGTH(v)) FROM t WHERE id > ?")) {
            ps.setInt(1, random.nextInt(1000));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long n = rs.getLong(1);
                long x = 0;
                for (long i = 0; i < n * 20; i++) {
                    x += i ^ (x >>> 3);
                }
                sink = x;
                return n;
            }
        }
    }

    static void spin(long nanos) {
        long until = System.nanoTime() + nanos;
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }

    static void awaitState(UseThread<Object> job, ResultState state) throws InterruptedException {
        long deadline = System.nanoTime() + BOUND.toNanos();
        while (job.result().state() != state) {
            if (System.nanoTime() > deadline) {
                Harness.fail("no " + state + " within " + BOUND + ": " + job.result());
            }
            TimeUnit.MILLISECONDS.sleep(1);
        }
    }

    static void expectCancelled(UseThread<Object> job, String what) throws Exception {
        Result<Object> end = job.await(BOUND);
        if (end.state() != ResultState.CANCELLED) {
            Harness.fail(what + " ended " + end);
        }
        if (end.error() instanceof CancelledSignal) {
            Harness.fail(what + ": the signal shows as the job's error");
        }
        job.close();
    }
}
