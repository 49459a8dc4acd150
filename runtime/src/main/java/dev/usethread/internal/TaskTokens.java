package dev.usethread.internal;

import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Captured tokens keyed by task identity, with weak keys: a task that is never run (removed from a
 * queue, rejected, dropped by {@code shutdownNow()}) leaves nothing behind once it is collected.
 * Identity, not {@code equals}: two equal records submitted as tasks are two tasks.
 */
final class TaskTokens {
    private final ConcurrentHashMap<Object, Object> map = new ConcurrentHashMap<>();
    private final ReferenceQueue<Object> collected = new ReferenceQueue<>();

    /** The fast path of every task run while no task carries a token. */
    boolean isEmpty() {
        return map.isEmpty();
    }

    void put(Object task, Object token) {
        expunge();
        map.put(new WeakKey(task, collected), token);
    }

    Object get(Object task) {
        return map.get(new Probe(task));
    }

    /** Removes and returns the token of {@code task}, or null. */
    Object take(Object task) {
        return map.remove(new Probe(task));
    }

    int size() {
        expunge();
        return map.size();
    }

    private void expunge() {
        Reference<?> r;
        while ((r = collected.poll()) != null) {
            map.remove(r); // a cleared key equals only itself
        }
    }

    /** Both key kinds compare their referents by identity. */
    private interface Key {
        Object referent();
    }

    private static final class WeakKey extends WeakReference<Object> implements Key {
        private final int hash;

        WeakKey(Object task, ReferenceQueue<Object> queue) {
            super(task, queue);
            this.hash = System.identityHashCode(task);
        }

        @Override
        public Object referent() {
            return get();
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            if (o == this) {
                return true;
            }
            Object r = get();
            return r != null && o instanceof Key && ((Key) o).referent() == r;
        }
    }

    /** A look-up key: never stored, so it holds its task strongly. */
    private static final class Probe implements Key {
        private final Object task;

        Probe(Object task) {
            this.task = task;
        }

        @Override
        public Object referent() {
            return task;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(task);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key && ((Key) o).referent() == task;
        }
    }
}
