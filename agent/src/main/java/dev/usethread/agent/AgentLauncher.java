package dev.usethread.agent;

import java.io.File;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.InvocationTargetException;
import java.net.URISyntaxException;
import java.util.jar.JarFile;

/**
 * The Premain-Class and Agent-Class (see {@link LauncherAgent} for java -jar). The JVM loads it with the system class
 * loader; it touches no other class of this jar, appends the jar (wherever it is, however it is named)
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

    static File ownJar() throws URISyntaxException {
        return new File(AgentLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}
