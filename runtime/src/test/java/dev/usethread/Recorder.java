package dev.usethread;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/** A listener that records every snapshot it is given, plus waiting helpers for tests. */
final class Recorder<T> implements Consumer<Result<T>> {
    static final Duration LIVENESS = Duration.ofSeconds(20);
    private final List<Result<T>> seen = new ArrayList<>();

    @Override
    public synchronized void accept(Result<T> result) {
        seen.add(result);
        notifyAll();
    }

    synchronized List<Result<T>> snapshots() {
        return new ArrayList<>(seen);
    }

    synchronized List<ResultState> states() {
        return seen.stream().map(Result::state).collect(Collectors.toList());
    }

    synchronized Result<T> last() {
        return seen.isEmpty() ? null : seen.get(seen.size() - 1);
    }

    /** Waits until a snapshot with {@code state} has been recorded. */
    synchronized Result<T> awaitState(ResultState state) throws InterruptedException {
        long deadline = System.nanoTime() + LIVENESS.toNanos();
        while (true) {
            for (Result<T> r : seen) {
                if (r.state() == state) {
                    return r;
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("no " + state + " within " + LIVENESS + "; saw " + states());
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    /** Polls {@code condition} until it holds or the liveness bound passes. */
    static void awaitTrue(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + LIVENESS.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not true within " + LIVENESS + ": " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
