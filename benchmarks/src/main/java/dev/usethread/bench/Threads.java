package dev.usethread.bench;

import java.lang.reflect.Method;

/** Virtual threads through reflection: the module is compiled for Java 17. */
final class Threads {
    private static final Method OF_VIRTUAL = find();

    private Threads() {
    }

    private static Method find() {
        try {
            return Thread.class.getMethod("ofVirtual");
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    static boolean virtualThreadsAvailable() {
        return OF_VIRTUAL != null;
    }

    static Thread newVirtual(Runnable task) {
        try {
            Object builder = OF_VIRTUAL.invoke(null);
            Method unstarted = Class.forName("java.lang.Thread$Builder").getMethod("unstarted", Runnable.class);
            return (Thread) unstarted.invoke(builder, task);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create a virtual thread", e);
        }
    }
}
