package dev.usethread.agent;

import dev.usethread.agent.cache.WovenClassCache;
import dev.usethread.agent.config.AgentConfig;
import dev.usethread.agent.config.ConfigException;
import dev.usethread.agent.config.Quote;
import dev.usethread.agent.handoff.HandOffTransformer;
import dev.usethread.agent.weave.Weaver;
import dev.usethread.internal.AgentStatus;
import java.io.File;
import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarFile;

/**
 * The agent proper, defined by the bootstrap loader ({@link AgentLauncher} put this jar on the boot
 * class path first), so that it, the runtime and the shaded libraries are one copy for every loader;
 * or, where the application's class loader already holds the runtime copy, by that loader.
 */
public final class AgentMain {
    /**
     * System property set to the agent jar's path once the agent runs, for diagnostics only: any code
     * can set a property, so nothing trusts it ({@link UsethreadAgent#isInstalled()} asks the runtime).
     */
    static final String INSTALLED_PROPERTY = "usethread.agent.installed";

    private static PollTransformer transformer;

    /** True once this copy of the agent started weaving (in this class's loader). */
    static synchronized boolean isRunning() {
        return transformer != null;
    }

    private AgentMain() {
    }

    /**
     * Called reflectively by {@link AgentLauncher}; {@code late} is true for agentmain (attach).
     *
     * @param args the agent's options, or null
     * @param inst the JVM's instrumentation
     * @param late true for a late attach, false at start-up
     * @param jarPath the agent jar's path, shown in diagnostics; may be null
     */
    public static synchronized void start(String args, Instrumentation inst, boolean late, String jarPath) {
        AgentConfig config;
        try {
            config = AgentConfig.parse(args, System.getProperties());
        } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
            // Never a stack trace: an exception escaping premain aborts the JVM (status 134).
            String problem = e instanceof ConfigException ? ((ConfigException) e).problem()
                    : "usethread agent: cannot read the options: " + e.getClass().getName();
            if (late) {
                // The attach fails (jcmd: "return code: 102"); the JDK reports it in the application's
                // standard error, where this exception shows as one line.
                throw new AttachRefused(problem);
            }
            System.err.println(e instanceof ConfigException ? e.getMessage() : problem);
            System.err.flush();
            System.exit(2);
            return;
        }
        if (transformer != null) {
            System.err.println("[usethread-agent] already installed; ignoring a second start with '" + args + "'");
            return;
        }
        String refused = jdkWithoutBootRuntime(config);
        if (refused != null) {
            if (late) {
                throw new IllegalStateException(refused);
            }
            System.err.println(refused);
            System.err.flush();
            System.exit(2);
            return;
        }
        // The hand-off hooks live in JDK classes, which link only to the boot loader's runtime copy.
        boolean propagate = config.propagate() && AgentMain.class.getClassLoader() == null;
        preloadRuntime(propagate, config.intrusiveExecutors());
        letModulesReadRuntime(inst);
        transformer = new PollTransformer(config, openCache(config, jarPath));
        inst.addTransformer(transformer, true);
        AgentStatus.markInstalled();
        int retransformed = retransformLoaded(inst, late, config);
        if (propagate) {
            retransformed += HandOffTransformer.install(inst);
        }
        if (config.intrusiveExecutors()) {
            retransformed += HandOffTransformer.installExecutors(inst);
        }
        // The jar's path, not its version: reading the manifest again would cost start-up time.
        System.setProperty(INSTALLED_PROPERTY, jarPath == null ? "unknown" : jarPath);
        if (config.verbose()) {
            System.err.println("[usethread-agent] usethread agent " + version(jarPath) + " from " + jarPath + " ("
                    + (late ? "attached" : "at start-up") + "), options " + config.effective() + ", retransformed "
                    + retransformed + " loaded classes");
            PollTransformer t = transformer;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> System.err.println(t.summary()),
                    "usethread-agent-summary"));
        }
    }

    /**
     * The woven-class cache ({@code cache=}), written when the JVM exits; null if not asked for or the
     * agent jar cannot be read (said). Its file is for this agent jar's build only.
     */
    private static WovenClassCache openCache(AgentConfig config, String jarPath) {
        if (config.cache() == null) {
            return null;
        }
        long build;
        try {
            build = WovenClassCache.build(new File(jarPath), Weaver.mode());
        } catch (IOException | RuntimeException e) {
            System.err.println("[usethread-agent] cache=" + Quote.of(config.cache().toString())
                    + ": not used: cannot read the agent jar " + Quote.of(String.valueOf(jarPath)));
            return null;
        }
        WovenClassCache cache = WovenClassCache.open(config.cache(), build);
        Runtime.getRuntime().addShutdownHook(new PersistCache(cache));
        return cache;
    }

    /** Writes the cache at exit; a class, not a method reference, to keep start-up free of lambda bootstraps. */
    private static final class PersistCache extends Thread {
        private final WovenClassCache cache;

        PersistCache(WovenClassCache cache) {
            super("usethread-agent-cache");
            this.cache = cache;
        }

        @Override
        public void run() {
            cache.persist();
        }
    }

    /**
     * Null, or why {@code jdk=} cannot be honoured: the one runtime copy is in the application's class
     * loader (see {@code AgentLauncher.runtimeLoader}), and JDK classes link only to the boot loader's.
     */
    private static String jdkWithoutBootRuntime(AgentConfig config) {
        if (AgentMain.class.getClassLoader() == null || (!config.hasJdkPatterns() && !config.intrusiveExecutors())) {
            return null;
        }
        String option = config.hasJdkPatterns() ? "jdk=" : "executors=intrusive";
        Module runtime = AgentStatus.class.getModule();
        String fix = runtime.isNamed()
                ? "the usethread runtime is module " + runtime.getName() + " on the module path. Put"
                        + " usethread-runtime on the class path instead, or drop " + option
                : "usethread runtime classes were loaded before the agent was installed. Install it before"
                        + " any usethread class is loaded (or start the JVM with -javaagent), or drop " + option;
        return "[usethread-agent] " + option + " needs the usethread runtime on the boot class path (JDK classes"
                + " link only to it), but " + fix + ".";
    }

    /**
     * With the runtime as a named module, woven classes of other named modules call its Poll: make
     * every module of the boot layer read it (an automatic module reads every module already; the
     * boot loader's unnamed module, where the runtime usually is, is read by every transformed module).
     */
    private static void letModulesReadRuntime(Instrumentation inst) {
        Module runtime = AgentStatus.class.getModule();
        if (!runtime.isNamed()) {
            return;
        }
        for (Module m : ModuleLayer.boot().modules()) {
            if (m.getClassLoader() != null && !m.canRead(runtime)) {
                inst.redefineModule(m, Set.of(runtime), Map.of(), Map.of(), Set.of(), Map.of());
            }
        }
    }

    /**
     * Loads and initializes the classes woven code calls before anything is woven. Otherwise, with a
     * JDK package such as java.util opted in, loading Poll would run the transformer, whose woven
     * java.util calls need Poll: a ClassCircularityError.
     */
    private static void preloadRuntime(boolean propagate, boolean executors) {
        for (String name : new String[] {"dev.usethread.internal.Poll", "dev.usethread.internal.GroupPolls",
                "dev.usethread.internal.ThreadState",
                "dev.usethread.internal.CancelScope", "dev.usethread.CancelledSignal",
                // The hand-off hooks run inside ForkJoinPool and ThreadPoolExecutor: no class
                // loading of ours should start there.
                propagate ? "dev.usethread.internal.Inheritance" : "dev.usethread.internal.Poll",
                executors ? "dev.usethread.internal.TaskScopes" : "dev.usethread.internal.Poll"}) {
            try {
                Class.forName(name, true, AgentMain.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("usethread agent jar is incomplete: " + name, e);
            }
        }
    }

    /**
     * Classes loaded before the transformer was added: the opted-in JDK packages, and after a late
     * attach the application's classes too. Frames already running keep their old code.
     */
    private static int retransformLoaded(Instrumentation inst, boolean late, AgentConfig config) {
        if (!late && !config.hasJdkPatterns()) {
            return 0; // at start-up only JDK classes are loaded yet, and none is opted in
        }
        List<Class<?>> targets = new ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (c.isArray() || c.isPrimitive() || c.isHidden() || !inst.isModifiableClass(c)) {
                continue;
            }
            ClassLoader loader = c.getClassLoader();
            boolean jdk = loader == null || loader == ClassLoader.getPlatformClassLoader();
            if ((late || jdk) && transformer.inScope(loader, c.getName().replace('.', '/'))) {
                targets.add(c);
            }
        }
        if (targets.isEmpty()) {
            return 0;
        }
        try {
            inst.retransformClasses(targets.toArray(new Class<?>[0]));
            return targets.size();
        } catch (Throwable batchFailed) {
            int done = 0;
            for (Class<?> c : targets) {
                try {
                    inst.retransformClasses(c);
                    done++;
                } catch (Throwable t) {
                    System.err.println("[usethread-agent] left unwoven: " + c.getName() + ": retransform failed: " + t);
                }
            }
            return done;
        }
    }

    static String version(String jarPath) {
        if (jarPath == null) {
            return "(unknown version)";
        }
        try (JarFile jar = new JarFile(jarPath)) {
            String v = jar.getManifest().getMainAttributes().getValue("Implementation-Version");
            return v == null ? "(unknown version)" : v;
        } catch (IOException | RuntimeException e) {
            return "(unknown version)";
        }
    }
}
