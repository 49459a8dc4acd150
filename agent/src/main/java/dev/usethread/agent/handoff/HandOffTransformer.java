package dev.usethread.agent.handoff;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes cancellation follow the work: weaves {@link HandOffWeaver}'s hooks into the JDK's executors
 * as they load, and retransforms those already loaded. A class that does not look as expected is
 * left as it was and said once on standard error (its tasks then run without inheritance).
 */
public final class HandOffTransformer implements ClassFileTransformer {
    private static final String PACKAGE = HandOffWeaver.PACKAGE.replace('/', '.');
    private final Set<String> woven = ConcurrentHashMap.newKeySet();
    /** executors=intrusive: FutureTask and CompletableFuture instead of the hand-off targets. */
    private final boolean executors;

    private HandOffTransformer(boolean executors) {
        this.executors = executors;
    }

    private boolean isTarget(String internalName) {
        return executors ? HandOffWeaver.isExecutorTarget(internalName) : HandOffWeaver.isTarget(internalName);
    }

    /**
     * Adds the transformer and retransforms the hand-off classes already loaded.
     *
     * @param inst the JVM's instrumentation
     * @return how many already-loaded classes it retransformed or tried to (a failure is reported on
     *     standard error)
     */
    public static int install(Instrumentation inst) {
        return install(inst, false);
    }

    /** Adds the transformer of the executors=intrusive option; returns how many loaded classes were retransformed. */
    public static int installExecutors(Instrumentation inst) {
        return install(inst, true);
    }

    private static int install(Instrumentation inst, boolean executors) {
        HandOffTransformer t = new HandOffTransformer(executors);
        t.isTarget(""); // loaded before the transformer runs: it would see itself loading
        inst.addTransformer(t, true);
        List<Class<?>> loaded = new ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (c.getClassLoader() != null) {
                continue;
            }
            String name = c.getName();
            // Nearly a thousand classes at start-up: most are rejected by their package, before any copy.
            if (name.startsWith(PACKAGE)) {
                String internalName = name.replace('.', '/');
                if (t.isTarget(internalName) && !t.woven.contains(internalName) && inst.isModifiableClass(c)) {
                    loaded.add(c);
                }
            }
        }
        for (Class<?> c : loaded) {
            try {
                inst.retransformClasses(c);
            } catch (Throwable e) {
                report(c.getName().replace('.', '/'), "retransform failed: " + e);
            }
        }
        return loaded.size();
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> classBeingRedefined,
            ProtectionDomain protectionDomain, byte[] classfileBuffer) {
        if (loader != null || className == null || !isTarget(className)) {
            return null;
        }
        try {
            byte[] bytes = executors ? HandOffWeaver.weaveExecutor(className, classfileBuffer)
                    : HandOffWeaver.weave(className, classfileBuffer);
            woven.add(className);
            return bytes;
        } catch (Throwable e) {
            report(className, e.toString());
            return null;
        }
    }

    private static void report(String className, String why) {
        System.err.println("[usethread-agent] tasks handed to " + className.replace('/', '.')
                + " do not follow cancellation (class left as it was): " + why);
    }
}
