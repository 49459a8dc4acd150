package dev.usethread.it.scenarios;

import dev.usethread.Cancellable;
import dev.usethread.Cancellation;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Existing executor code, no job anywhere: tasks that never check anything ({@link FollowTheWork#burn})
 * stopped by the JDK's own calls. Modes: {@code wrapped} (pools wrapped by {@link Cancellable}:
 * cancel(true), invokeAll with a timeout, shutdownNow, CompletableFuture orTimeout) and {@code plain}
 * (an unwrapped pool and CompletableFuture: stopped only with the agent's executors=intrusive; with
 * {@code expect=busy} it checks that without the option they keep burning).
 */
public final class DropIn {
    public static void main(String[] args) {
        try {
            Harness.report("INTRUSIVE", String.valueOf(Cancellation.isIntrusive()));
            switch (args[0]) {
                case "wrapped":
                    wrapped();
                    break;
                case "plain":
                    plain(args.length > 1 && args[1].equals("expect=busy"));
                    break;
                default:
                    Harness.fail("unknown mode " + args[0]);
            }
            Harness.ok();
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            Harness.fail("scenario threw " + t);
        }
    }

    static void wrapped() throws Exception {
        // The README's "Existing executor code" snippet.
        ExecutorService pool = Cancellable.executor(Executors.newFixedThreadPool(2));
        Future<Long> task = pool.submit(() -> FollowTheWork.burn(1));
        // ... later, from any thread:
        List<Thread> burners = FollowTheWork.awaitBurners(t -> true, 1);
        task.cancel(true); // stops the task at its next loop iteration, not only interrupts it
        FollowTheWork.awaitStopped(burners);
        Harness.report("NEXT_AFTER_CANCEL", FollowTheWork.nextTask(pool));

        List<Future<Long>> all = pool.invokeAll(List.of(() -> FollowTheWork.burn(2), () -> 7L), 300, TimeUnit.MILLISECONDS);
        FollowTheWork.awaitStopped(FollowTheWork.burning());
        Harness.report("INVOKE_ALL", all.get(0).isCancelled() + " " + all.get(1).get());
        Harness.report("NEXT_AFTER_INVOKE_ALL", FollowTheWork.nextTask(pool));

        CompletableFuture<Long> stage = Cancellable.supplyAsync(() -> FollowTheWork.burn(3), pool)
                .orTimeout(300, TimeUnit.MILLISECONDS);
        Harness.report("OR_TIMEOUT", FollowTheWork.outcome(stage));
        FollowTheWork.awaitStopped(FollowTheWork.burning());
        Harness.report("NEXT_AFTER_OR_TIMEOUT", FollowTheWork.nextTask(pool));

        pool.submit(() -> FollowTheWork.burn(4));
        pool.submit(() -> FollowTheWork.burn(5));
        burners = FollowTheWork.awaitBurners(t -> true, 2);
        pool.shutdownNow();
        FollowTheWork.awaitStopped(burners);
        Harness.report("TERMINATED", String.valueOf(pool.awaitTermination(Harness.BOUND.toSeconds(), TimeUnit.SECONDS)));
    }

    static void plain(boolean expectBusy) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        Future<Long> task = pool.submit(() -> FollowTheWork.burn(1));
        CompletableFuture<Long> stage = CompletableFuture.supplyAsync(() -> FollowTheWork.burn(2), pool);
        List<Thread> burners = FollowTheWork.awaitBurners(t -> true, 2);
        task.cancel(true);
        stage.cancel(true);
        if (expectBusy) {
            Thread.sleep(FollowTheWork.STOP_BOUND.toMillis());
            Harness.report("STILL_BURNING", String.valueOf(FollowTheWork.burning().size()));
            return; // System.exit ends the pool
        }
        FollowTheWork.awaitStopped(burners);
        Harness.report("NEXT_TASK", FollowTheWork.nextTask(pool));
        CompletableFuture<Long> timed = CompletableFuture.supplyAsync(() -> FollowTheWork.burn(3), pool)
                .orTimeout(300, TimeUnit.MILLISECONDS);
        Harness.report("OR_TIMEOUT", FollowTheWork.outcome(timed));
        FollowTheWork.awaitStopped(FollowTheWork.burning());
        Harness.report("NEXT_AFTER_OR_TIMEOUT", FollowTheWork.nextTask(pool));
        pool.shutdown();
    }
}
