package dev.usethread.agent;

import dev.usethread.agent.cache.WovenClassCache;
import dev.usethread.agent.config.AgentConfig;
import dev.usethread.agent.weave.Weaver;
import dev.usethread.internal.Events;
import java.lang.instrument.ClassFileTransformer;
import java.net.URL;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** Decides which classes get polls and weaves them; counts what it did for the verbose summary. */
final class PollTransformer implements ClassFileTransformer {
    private static final ClassLoader PLATFORM = ClassLoader.getPlatformClassLoader();

    /** The loader of the one runtime copy this agent works with (null: the boot loader). */
    private static final ClassLoader RUNTIME_LOADER = Events.class.getClassLoader();

    private final AgentConfig config;
    private final Map<Object, Boolean> secondCopies = new ConcurrentHashMap<>();
    final AtomicLong classesWoven = new AtomicLong();
    final AtomicLong pollsWoven = new AtomicLong();
    final AtomicLong classesWithoutPolls = new AtomicLong();
    final AtomicLong weaveNanos = new AtomicLong();
    private final Map<String, String> skipped = new ConcurrentHashMap<>();
    private final ClassDump dump;
    private final WovenClassCache cache; // null unless cache= is given and usable

    PollTransformer(AgentConfig config, WovenClassCache cache) {
        this.config = config;
        this.dump = config.dump() == null ? null : new ClassDump(config.dump());
        this.cache = cache;
    }

    private static boolean isRuntimeClass(String className) {
        if (!className.startsWith("dev/usethread/")) { // every class the JVM loads: no copy for the others
            return false;
        }
        int slash = className.lastIndexOf('/');
        String pkg = slash < 0 ? "" : className.substring(0, slash);
        return pkg.equals("dev/usethread") || pkg.equals("dev/usethread/internal");
    }

    /**
     * A loader that does not ask its parent first (child-first, OSGi) and finds usethread-runtime itself
     * defines a second copy: its jobs and polls are not the agent's. Said at once, once per loader.
     */
    private void reportSecondCopy(ClassLoader loader, String className, ProtectionDomain domain) {
        if (secondCopies.putIfAbsent(loader == null ? "boot" : loader, Boolean.TRUE) == null) {
            Object from = domain == null || domain.getCodeSource() == null ? "?" : domain.getCodeSource().getLocation();
            System.err.println("[usethread-agent] " + loader + " defines a second copy of the usethread runtime ("
                    + className.replace('/', '.') + " from " + from + "): jobs started through it are not cancelled"
                    + " intrusively. Let that loader ask its parent for dev.usethread.* (keep usethread-runtime out of"
                    + " its own class path, or delegate the package, e.g. OSGi boot delegation).");
        }
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> classBeingRedefined,
            ProtectionDomain protectionDomain, byte[] classfileBuffer) {
        if (className == null) {
            return null;
        }
        if (classBeingRedefined == null && loader != RUNTIME_LOADER && isRuntimeClass(className)) {
            reportSecondCopy(loader, className, protectionDomain);
        }
        if (!inScope(loader, className)) {
            return null;
        }
        try {
            long t0 = System.nanoTime();
            String origin = cache == null ? null : cachedOrigin(loader, protectionDomain);
            WovenClassCache.Hit hit = origin == null ? null : cache.find(classfileBuffer, origin);
            if (hit != null) {
                weaveNanos.addAndGet(System.nanoTime() - t0);
                return woven(className, hit.bytes(), hit.polls());
            }
            Weaver.Outcome outcome = Weaver.weave(classfileBuffer);
            weaveNanos.addAndGet(System.nanoTime() - t0);
            if (outcome.skipReason() != null) {
                skip(className, outcome.skipReason()); // not kept: weighed again in every run, and said
                return null;
            }
            if (origin != null) {
                cache.add(classfileBuffer, origin, outcome.bytes(), outcome.polls());
            }
            return woven(className, outcome.bytes(), outcome.polls());
        } catch (Throwable t) {
            // Whatever happens, the class is defined as it was.
            skip(className, "weaving failed: " + t);
            return null;
        }
    }

    /** The last domain's origin: classes load jar by jar, and a URL's text costs microseconds interpreted. */
    private static final class LastOrigin {
        final ProtectionDomain domain;
        final String origin;

        LastOrigin(ProtectionDomain domain, String origin) {
            this.domain = domain;
            this.origin = origin;
        }
    }

    private volatile LastOrigin lastOrigin = new LastOrigin(null, null);

    private String cachedOrigin(ClassLoader loader, ProtectionDomain domain) {
        if (loader == null || loader == PLATFORM || domain == null) {
            return origin(loader, domain);
        }
        LastOrigin last = lastOrigin;
        if (last.domain != domain) {
            last = new LastOrigin(domain, origin(loader, domain));
            lastOrigin = last;
        }
        return last.origin;
    }

    /**
     * Where a class comes from, for the cache (which copies a class only for the same origin): "jdk" for
     * the JDK's loaders, else its code source's location; null (not cached) for a class without one,
     * such as those script engines and proxies generate.
     */
    static String origin(ClassLoader loader, ProtectionDomain domain) {
        if (loader == null || loader == PLATFORM) {
            return "jdk";
        }
        CodeSource source = domain == null ? null : domain.getCodeSource();
        URL location = source == null ? null : source.getLocation();
        return location == null ? null : location.toString();
    }

    /** Counts a class woven ({@code bytes} null: nothing to poll) and returns what the JVM is to define. */
    private byte[] woven(String className, byte[] bytes, int polls) {
        if (bytes == null) {
            classesWithoutPolls.incrementAndGet();
            return null;
        }
        event(className, polls, null);
        classesWoven.incrementAndGet();
        pollsWoven.addAndGet(polls);
        if (dump != null) {
            dump.write(className, bytes);
        }
        return bytes;
    }

    boolean inScope(ClassLoader loader, String internalName) {
        if (isOwn(internalName)) {
            return false;
        }
        String name = internalName.replace('/', '.');
        if (loader == null || loader == PLATFORM) {
            return !neverWoven(name) && config.weavesJdkClass(name);
        }
        return config.weavesApplicationClass(name);
    }

    /**
     * The runtime (dev.usethread, dev.usethread.internal), the JUnit extension (dev.usethread.junit,
     * not its subpackages) and the agent with its shaded libraries: no user loops, and polls there
     * would only re-throw sticky signals inside usethread's own unwinding.
     */
    static boolean isOwn(String internalName) {
        if (!internalName.startsWith("dev/usethread/")) {
            return false;
        }
        String rest = internalName.substring("dev/usethread/".length());
        return rest.indexOf('/') < 0
                || directlyIn(rest, "internal/")
                || directlyIn(rest, "junit/")
                || rest.startsWith("agent/");
    }

    private static boolean directlyIn(String rest, String pkg) {
        return rest.startsWith(pkg) && rest.indexOf('/', pkg.length()) < 0;
    }

    /** JDK packages that are never woven, even when opted in: weaving them breaks the JVM. */
    static boolean neverWoven(String name) {
        return name.startsWith("java.lang.") || name.startsWith("jdk.internal.") || name.startsWith("sun.")
                || name.startsWith("com.sun.") || name.startsWith("jdk.jfr.");
    }

    /** A JFR event per woven or skipped class (free unless a recording enables dev.usethread.Weave). */
    private static void event(String className, int polls, String skippedBecause) {
        JfrWeaveEvents.emit(className, polls, skippedBecause);
    }

    private void skip(String className, String reason) {
        event(className, 0, reason);
        if (skipped.putIfAbsent(className, reason) == null) {
            System.err.println("[usethread-agent] left unwoven: " + className.replace('/', '.') + ": " + reason);
        }
    }

    String summary() {
        StringBuilder s = new StringBuilder();
        s.append("[usethread-agent] summary: ").append(classesWoven.get()).append(" classes woven with ")
                .append(pollsWoven.get()).append(" polls, ").append(classesWithoutPolls.get())
                .append(" in scope without code to poll, ").append(skipped.size()).append(" left unwoven; weaving took ")
                .append(weaveNanos.get() / 1_000_000).append(" ms");
        if (cache != null) {
            s.append("; ").append(cache.hits()).append(" classes copied from the cache, ").append(cache.added())
                    .append(" added to it");
        }
        if (dump != null && dump.failures.get() > 0) {
            s.append("; ").append(dump.failures.get()).append(" classes not dumped");
        }
        for (Map.Entry<String, String> e : new TreeMap<>(skipped).entrySet()) {
            s.append("\n[usethread-agent]   ").append(e.getKey().replace('/', '.')).append(": ").append(e.getValue());
        }
        return s.toString();
    }
}
