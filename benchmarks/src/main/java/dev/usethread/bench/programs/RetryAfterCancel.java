package dev.usethread.bench.programs;

import dev.usethread.Result;
import dev.usethread.ResultState;
import dev.usethread.UseThread;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * One trial of "cancel, then retry the same work": ECJ compiling a source tree as a {@code useThread}
 * job, in this JVM (run it with the agent). The job runs to completion {@code warmups} times (the
 * last of them is T0), is started again and cancelled at a random point of that run, then retried:
 * the retried compile (T1) and the {@code after - 1} runs that follow are timed. With
 * {@code control} the run that would be cancelled completes instead, so the same sequence shows how
 * much the runs after T0 differ from it without any cancellation.
 *
 * <p>Every compile writes its class files to a fresh directory under {@code work-dir}, deleted by
 * the main thread once the run has ended, so runs never see each other's output.
 *
 * <p>Prints one line: {@code RESULT t0=<ms> cancelAt=<ms> cancelWait=<ms> t=<ms>,<ms>,...}
 * (cancelAt: how long after the start the cancel came; cancelWait: cancel() until CANCELLED).
 * Needs ECJ ({@code org.eclipse.jdt:ecj}) on the class path next to the benchmarks jar.
 */
public final class RetryAfterCancel {
    private static final Duration RUN_TIMEOUT = Duration.ofMinutes(10);

    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            throw new IllegalArgumentException("usage: RetryAfterCancel <source-dir> <work-dir> <warmups> <after> <seed> [cancel|control]");
        }
        Path sources = Path.of(args[0]);
        if (!Files.isDirectory(sources)) {
            throw new IllegalArgumentException("source directory does not exist: " + sources);
        }
        Path work = Files.createDirectories(Path.of(args[1]));
        int warmups = positive(args[2], "warmups");
        int after = positive(args[3], "after");
        Random random = new Random(Long.parseLong(args[4]));
        String mode = args.length > 5 ? args[5] : "cancel";
        if (!mode.equals("cancel") && !mode.equals("control")) {
            throw new IllegalArgumentException("mode must be cancel or control: " + mode);
        }
        boolean control = mode.equals("control");

        Ecj ecj = new Ecj(sources);
        AtomicReference<Path> output = new AtomicReference<>();
        // The job's first run (started with it) compiles nothing; every timed run is a retry().
        UseThread<Boolean> job = UseThread.options().name("ecj").useThread(() -> output.get() != null && ecj.compile(output.get()));
        try {
            job.await(RUN_TIMEOUT);
            long t0 = 0;
            for (int i = 0; i < warmups; i++) {
                t0 = timedRun(job, work, output);
            }
            long[] cancelled = {-1, 0};
            if (control) {
                timedRun(job, work, output);
            } else {
                cancelled = cancelledRun(job, work, output, (long) (t0 * (0.1 + 0.8 * random.nextDouble())));
            }
            List<Long> times = new ArrayList<>();
            for (int i = 0; i < after; i++) {
                times.add(timedRun(job, work, output));
            }
            System.out.println("RESULT t0=" + t0 + " cancelAt=" + cancelled[0] + " cancelWait=" + cancelled[1]
                    + " t=" + times.stream().map(String::valueOf).reduce((a, b) -> a + "," + b).orElse(""));
        } finally {
            job.close();
        }
    }

    /** Starts a run (retry()), waits for it and returns its wall time in ms. */
    private static long timedRun(UseThread<Boolean> job, Path work, AtomicReference<Path> output) throws Exception {
        Path out = Files.createTempDirectory(work, "ecj-out");
        output.set(out);
        long start = System.nanoTime();
        job.retry();
        Result<Boolean> result = job.await(RUN_TIMEOUT);
        long ms = (System.nanoTime() - start) / 1_000_000;
        delete(out);
        System.err.println("compile: " + ms + " ms");
        if (result.state() != ResultState.FINISHED) {
            throw new IllegalStateException("the compile did not finish: " + result, result.error());
        }
        return ms;
    }

    /**
     * Starts a run, cancels it {@code cancelAt} ms later and returns how long cancel() took to
     * CANCELLED. A run that finished before the cancel came (runs still get faster after T0, and a
     * busy machine varies them) is run again with the cancel at half the time, at most eight times.
     *
     * @return when the cancel came (ms after the start) and how long cancel() took to CANCELLED
     */
    private static long[] cancelledRun(UseThread<Boolean> job, Path work, AtomicReference<Path> output, long cancelAt)
            throws Exception {
        for (int attempt = 0; attempt < 8; attempt++, cancelAt /= 2) {
            Path out = Files.createTempDirectory(work, "ecj-out");
            output.set(out);
            job.retry();
            Thread.sleep(cancelAt);
            long start = System.nanoTime();
            job.cancel();
            Result<Boolean> result = job.await(RUN_TIMEOUT);
            long ms = (System.nanoTime() - start) / 1_000_000;
            delete(out);
            System.err.println("cancelled at " + cancelAt + " ms: " + result.state() + " " + ms + " ms after cancel()");
            if (result.state() == ResultState.CANCELLED) {
                return new long[] {cancelAt, ms};
            }
            if (result.state() != ResultState.FINISHED) {
                throw new IllegalStateException("the compile cancelled after " + cancelAt + " ms ended " + result, result.error());
            }
        }
        throw new IllegalStateException("the compile finished before the cancel eight times (last at " + cancelAt * 2 + " ms)");
    }

    private static int positive(String value, String name) {
        int n = Integer.parseInt(value);
        if (n < 1) {
            throw new IllegalArgumentException(name + " must be at least 1: " + value);
        }
        return n;
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    /** ECJ's batch compiler, called through its public entry point (looked up at run time: ECJ is not a build dependency). */
    static final class Ecj {
        private final Path sources;
        private final MethodHandle compile;

        Ecj(Path sources) throws ReflectiveOperationException {
            this.sources = sources;
            Class<?> batch = Class.forName("org.eclipse.jdt.core.compiler.batch.BatchCompiler");
            Class<?> progress = Class.forName("org.eclipse.jdt.core.compiler.CompilationProgress");
            // A method handle, not Method.invoke: what ECJ throws (the cancellation too) reaches the job unwrapped.
            this.compile = MethodHandles.publicLookup().findStatic(batch, "compile",
                    MethodType.methodType(boolean.class, String[].class, PrintWriter.class, PrintWriter.class, progress));
        }

        /** Compiles the sources for Java 8 into {@code out}; throws with ECJ's messages when it fails. */
        boolean compile(Path out) throws Exception {
            String[] args = {"-8", "-encoding", "UTF-8", "-nowarn", "-d", out.toString(), sources.toString()};
            StringWriter messages = new StringWriter();
            PrintWriter writer = new PrintWriter(messages);
            boolean ok;
            try {
                ok = (boolean) compile.invoke(args, writer, writer, null);
            } catch (Throwable t) {
                if (t instanceof Exception e) {
                    throw e;
                }
                throw (Error) t;
            }
            writer.flush();
            if (!ok) {
                throw new IllegalStateException("ECJ failed to compile " + sources + ":\n" + messages);
            }
            return true;
        }
    }
}
