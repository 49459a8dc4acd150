package dev.usethread.it.childfirst;

import dev.usethread.Task;

/** Loaded by a child-first class loader in the child-first scenario. */
public final class Spinner implements Task<Object> {
    @Override
    public Object call() {
        long x = 1;
        while (x != 0) {
            x = x * 3 + 1 | 1;
        }
        return x;
    }
}
