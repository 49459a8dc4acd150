package dev.usethread;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;

/** A ThreadFactory whose threads wait for {@link #open()} before running, and are remembered. */
final class GatedThreads implements ThreadFactory {
    private final CountDownLatch gate = new CountDownLatch(1);
    final List<Thread> created = new CopyOnWriteArrayList<>();

    @Override
    public Thread newThread(Runnable task) {
        Thread thread = new Thread(() -> {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            task.run();
        }, "gated-" + created.size());
        thread.setDaemon(true);
        created.add(thread);
        return thread;
    }

    void open() {
        gate.countDown();
    }
}
