package dev.usethread.bench;

import java.lang.reflect.Method;

/**
 * What the benchmarks ask the runtime's poll site, by reflection: {@code Poll.isArmed()} and
 * {@code Poll.targetChanges()} are diagnostics of today's design, which a redesigned poll site may
 * not have. Without them the harnesses wait a fixed calm period and print "n/a".
 */
final class PollProbe {
    private static final Method IS_ARMED = find("isArmed");
    private static final Method TARGET_CHANGES = find("targetChanges");
    private static final Method IS_GLOBALLY_ARMED = find("isGloballyArmed");
    private static final Method IS_GROUP_ARMED = find("isGroupArmed", int.class);
    private static final Method GROUP_OF = groupOf();

    private PollProbe() {
    }

    private static Method find(String name, Class<?>... parameters) {
        try {
            return Class.forName("dev.usethread.internal.Poll").getMethod(name, parameters);
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    private static Method groupOf() {
        try {
            return Class.forName("dev.usethread.internal.PollGroup").getMethod("of", String.class);
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    /** Whether the poll group of class {@code className} is armed now; false when the runtime cannot say. */
    static boolean isGroupOfArmed(String className) {
        try {
            return IS_GROUP_ARMED != null && GROUP_OF != null
                    && (Boolean) IS_GROUP_ARMED.invoke(null, (Integer) GROUP_OF.invoke(null, className));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether woven polls check for cancellation now; false when the runtime cannot say. */
    static boolean isArmed() {
        try {
            return IS_ARMED != null && (Boolean) IS_ARMED.invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** How often the poll site changed state so far (each change deoptimizes), or -1 if unknown. */
    static long targetChanges() {
        try {
            return TARGET_CHANGES == null ? -1 : (Long) TARGET_CHANGES.invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether every site is armed (the fallback), as text; "n/a" when the runtime cannot say. */
    static String globallyArmedText() {
        try {
            return IS_GLOBALLY_ARMED == null ? "n/a" : String.valueOf(IS_GLOBALLY_ARMED.invoke(null));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    static String targetChangesText() {
        long n = targetChanges();
        return n < 0 ? "n/a" : Long.toString(n);
    }

    /**
     * Waits until the poll site is idle again (as in a JVM that never cancelled), at most
     * {@code maxMillis}; without the diagnostic, waits {@code fallbackMillis}. Returns the ms waited.
     */
    static long awaitIdle(long maxMillis, long fallbackMillis) throws InterruptedException {
        long start = System.nanoTime();
        if (IS_ARMED == null) {
            Thread.sleep(fallbackMillis);
        } else {
            long end = start + maxMillis * 1_000_000;
            while (isArmed() && System.nanoTime() < end) {
                Thread.sleep(5);
            }
        }
        return (System.nanoTime() - start) / 1_000_000;
    }
}
