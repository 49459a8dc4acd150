package dev.usethread.agent;

import dev.usethread.agent.config.AgentConfig;
import dev.usethread.agent.config.ConfigException;
import java.io.File;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.InvocationTargetException;
import java.net.URISyntaxException;
import java.util.jar.JarFile;

/**
 * The Premain-Class and Agent-Class (see {@link LauncherAgent} for java -jar). The JVM loads it with the system class
 * loader; it touches no other class of this jar (except, for a late attach, the option parser), appends the jar (wherever it is, however it is named)
 * to the bootstrap class path, and hands over to {@code AgentMain} loaded from there. From then on,
 * every loader that delegates to its parent finds the runtime, the agent and the shaded libraries in
 * the boot loader: one copy, which woven code in any loader or module links to. No file is written.
 */
public final class AgentLauncher {
    private AgentLauncher() {
    }

    public static void premain(String args, Instrumentation inst) throws Exception {
        start(args, inst, false);
    }

    public static void agentmain(String args, Instrumentation inst) throws Exception {
        start(args, inst, true);
    }

    static void start(String args, Instrumentation inst, boolean late) throws Exception {
        if (late) {
            checkOptions(args);
        }
        File jar = ownJar();
        inst.appendToBootstrapClassLoaderSearch(new JarFile(jar));
        Class<?> main = Class.forName("dev.usethread.agent.AgentMain", true, null);
        try {
            main.getMethod("start", String.class, Instrumentation.class, boolean.class, String.class)
                    .invoke(null, args, inst, late, jar.getPath());
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception) {
                throw (Exception) cause;
            }
            throw (Error) cause;
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

    static File ownJar() throws URISyntaxException {
        return new File(AgentLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}
