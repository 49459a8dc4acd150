package dev.usethread.bench;

import dev.usethread.internal.CancelScope;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveTask;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What "cancellation follows the work" costs a task hand-off: run once with the agent's
 * {@code propagate=true} and once with {@code propagate=false} (JMH {@code -jvmArgsAppend}), and
 * compare. {@code inScope=false} is the idle cost every task in the JVM pays (a thread-local peek
 * at submission, an empty-table check at run); {@code inScope=true} submits from inside a
 * cancellation scope, as a job does (capture, side table, child scope on the pool thread).
 * {@link #threadPoolSubmit} and {@link #supplyAsync} also measure the agent's
 * {@code executors=intrusive} against {@code executors=interrupt}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
public class HandOff {
    static final int TASKS = 1000;

    @Param({"false", "true"})
    boolean inScope;

    ForkJoinPool forkJoin;
    ExecutorService threadPool;
    CancelScope scope;

    @Setup(Level.Trial)
    public void setUp() {
        forkJoin = new ForkJoinPool(2);
        threadPool = Executors.newFixedThreadPool(2);
        if (inScope) {
            scope = new CancelScope("benchmark", true); // never cancelled
            scope.enter(); // setup runs on the benchmark thread
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (scope != null) {
            scope.exit();
        }
        forkJoin.shutdownNow();
        threadPool.shutdownNow();
    }

    /** Fork/join from the benchmark thread: every subtask is forked (pushed) and exec'd (run). */
    @Benchmark
    public long forkJoinRecursive() {
        return forkJoin.submit(new Sum(0, TASKS)).join();
    }

    /** {@link #TASKS} tiny tasks through a fixed ThreadPoolExecutor's execute and worker loop. */
    @Benchmark
    public long threadPoolExecute() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(TASKS);
        for (int i = 0; i < TASKS; i++) {
            threadPool.execute(done::countDown);
        }
        done.await();
        return done.getCount();
    }

    /**
     * {@link #TASKS} tiny tasks through {@code submit}: each a FutureTask, whose run the agent's
     * {@code executors=intrusive} wraps in a scope (compare a run with that option and one without).
     */
    @Benchmark
    public long threadPoolSubmit() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(TASKS);
        for (int i = 0; i < TASKS; i++) {
            threadPool.submit(done::countDown);
        }
        done.await();
        return done.getCount();
    }

    /** {@link #TASKS} tiny CompletableFuture.supplyAsync stages on the fixed pool, all joined. */
    @Benchmark
    public long supplyAsync() {
        CompletableFuture<?>[] stages = new CompletableFuture<?>[TASKS];
        for (int i = 0; i < TASKS; i++) {
            int n = i;
            stages[i] = CompletableFuture.supplyAsync(() -> n, threadPool);
        }
        CompletableFuture.allOf(stages).join();
        return stages.length;
    }

    /** Splits down to single elements: about 2 × TASKS fork() and exec() per call. */
    static final class Sum extends RecursiveTask<Long> {
        final int from;
        final int to;

        Sum(int from, int to) {
            this.from = from;
            this.to = to;
        }

        @Override
        protected Long compute() {
            if (to - from <= 1) {
                return (long) from;
            }
            int mid = (from + to) >>> 1;
            Sum left = new Sum(from, mid);
            left.fork();
            long right = new Sum(mid, to).compute();
            return right + left.join();
        }
    }
}
