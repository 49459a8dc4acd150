package dev.usethread.agent;

import dev.usethread.agent.config.AgentConfig;
import dev.usethread.agent.config.ConfigException;
import java.io.File;
import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.URISyntaxException;
import java.util.jar.JarFile;

/**
 * The Premain-Class and Agent-Class (see {@link LauncherAgent} for java -jar). The JVM loads it with the system class
 * loader; it touches no other class of this jar (except, for a late attach, the option parser), decides where the one runtime copy lives (see
 * {@link #runtimeLoader}), and hands over to {@code AgentMain} loaded from there. Usually that is the
 * boot loader: the jar (wherever it is, however it is named) is appended to the bootstrap class path,
 * and every loader that delegates to its parent finds the runtime, the agent and the shaded libraries
 * there: one copy, which woven code in any loader or module links to. No file is written.
 */
public final class AgentLauncher {
    /** System property with the reason the last start failed; {@code UsethreadAgent.install} reports it. */
    static final String FAILURE_PROPERTY = "usethread.agent.failure";

    private AgentLauncher() {
    }

    /**
     * Called by the JVM for {@code -javaagent}: starts the agent before the application's main.
     *
     * @param args the agent's options (the text after {@code =}), or null
     * @param inst the JVM's instrumentation
     * @throws Exception if the agent jar cannot be found or read, or the agent fails to start
     */
    public static void premain(String args, Instrumentation inst) throws Exception {
        start(args, inst, false);
    }

    /**
     * Called by the JVM when this jar is attached to a running JVM (as {@link UsethreadAgent#install}
     * does): starts the agent late; bad options are refused before the JVM is changed.
     *
     * @param args the agent's options, or null
     * @param inst the JVM's instrumentation
     * @throws Exception if the options are bad, the runtime copy cannot be shared, or the agent fails
     *     to start; the attach then fails
     */
    public static void agentmain(String args, Instrumentation inst) throws Exception {
        start(args, inst, true);
    }

    static void start(String args, Instrumentation inst, boolean late) throws Exception {
        if (late) {
            checkOptions(args);
        }
        File jar = ownJar();
        ClassLoader loader;
        try {
            loader = runtimeLoader(inst, late, jar);
        } catch (IllegalStateException e) {
            if (late) {
                System.setProperty(FAILURE_PROPERTY, e.getMessage());
                throw e; // the attaching side gets the message; the running application lives on
            }
            System.err.println(e.getMessage());
            System.err.flush();
            System.exit(2);
            return;
        }
        if (loader == null) {
            inst.appendToBootstrapClassLoaderSearch(new JarFile(jar));
        }
        Class<?> main = Class.forName("dev.usethread.agent.AgentMain", true, loader);
        // A method handle called with its exact type, not Method.invoke: from JDK 18 on, reflection
        // spins method-handle adapters for its Object[] arguments (tens of ms at every start-up).
        MethodHandle start = MethodHandles.publicLookup().findStatic(main, "start",
                MethodType.methodType(void.class, String.class, Instrumentation.class, boolean.class, String.class));
        try {
            start.invokeExact(args, inst, late, jar.getPath());
        } catch (Throwable cause) {
            if (late && cause.getMessage() != null) {
                System.setProperty(FAILURE_PROPERTY, cause.getMessage());
            }
            if (cause instanceof Exception) {
                throw (Exception) cause;
            }
            if (cause instanceof Error) {
                throw (Error) cause;
            }
            throw new IllegalStateException(cause);
        }
    }

    /**
     * A late attach with bad options fails before it changes the running JVM (its boot class path). Uses
     * the config classes of the loader that attached this jar: at start-up this costs nothing, as the
     * agent reads its options from the boot class path anyway, and a bad one ends the JVM.
     */
    private static void checkOptions(String args) {
        try {
            AgentConfig.parse(args, System.getProperties());
        } catch (ConfigException e) {
            throw new AttachRefused(e.problem());
        }
    }

    /**
     * Where the one runtime copy is: null for the boot loader (the jar gets appended to the bootstrap
     * class path), or this class's loader when the application already has a copy there that the boot
     * copy could not replace, because the loader would keep using its own:
     * <ul>
     * <li>{@code usethread-runtime} is a named module of the boot layer (the module path): a class
     * loader never asks its parent for a package of one of its own modules;</li>
     * <li>after start-up (install from code), runtime classes were loaded already: classes of the
     * runtime not loaded yet would come from the boot copy and could not reach the loaded ones'
     * private members (IllegalAccessError).</li>
     * </ul>
     * The agent classes then run in that loader too and link to its copy. A copy in any other loader
     * cannot be shared with the agent: that fails here, saying what to change.
     */
    static ClassLoader runtimeLoader(Instrumentation inst, boolean late, File jar) {
        ClassLoader own = AgentLauncher.class.getClassLoader();
        for (Module m : ModuleLayer.boot().modules()) {
            if (m.getClassLoader() != null && m.getPackages().contains("dev.usethread.internal")) {
                if (m.getClassLoader() != own) {
                    throw new IllegalStateException("[usethread-agent] the usethread runtime is module " + m.getName()
                            + " of " + m.getClassLoader() + ", but the agent was loaded by " + own
                            + ": put the agent jar on the class path (-javaagent does) or the runtime module in"
                            + " the application class loader");
                }
                return own;
            }
        }
        if (!late) {
            return null; // at start-up no runtime class is loaded yet
        }
        Class<?> loaded = null;
        for (Class<?> c : inst.getAllLoadedClasses()) {
            String pkg = c.getPackageName();
            if (c.getClassLoader() != null && (pkg.equals("dev.usethread") || pkg.equals("dev.usethread.internal"))) {
                if (c.getClassLoader() != own) {
                    throw new IllegalStateException("[usethread-agent] usethread runtime class " + c.getName()
                            + " was loaded by " + c.getClassLoader() + " before the agent was installed; the agent,"
                            + " loaded by " + own + ", cannot share that copy. Install the agent before any usethread"
                            + " class is loaded, or start the JVM with -javaagent:" + jar);
                }
                loaded = c;
            }
        }
        return loaded == null ? null : own;
    }

    static File ownJar() throws URISyntaxException {
        return new File(AgentLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}
