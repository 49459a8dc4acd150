package dev.usethread.agent;

import net.bytebuddy.agent.ByteBuddyAgent;
import dev.usethread.agent.config.AgentConfig;
import dev.usethread.agent.config.ConfigException;
import java.io.File;

/**
 * Installs the agent into the running JVM from code, for applications that cannot add
 * {@code -javaagent}. It attaches this jar (which must be on the class path as a jar file) through
 * the Attach API: directly when {@code -Djdk.attach.allowAttachSelf=true}, otherwise through a
 * helper JVM (ByteBuddy's attacher). JDK 21+ warns about dynamically loaded agents unless started
 * with {@code -XX:+EnableDynamicAgentLoading}; a JVM started with {@code -XX:-EnableDynamicAgentLoading}
 * (or without the jdk.attach module) refuses.
 *
 * <p>Limits: classes loaded before the call are retransformed, but a method already running keeps its
 * old code until it is called again (a loop that is already spinning is not cancellable); call this
 * before starting the jobs. If usethread runtime classes were loaded before the call (say
 * {@code UseThread} in a signature of the calling class), the agent keeps that copy, from the
 * application class loader, as the one copy; JDK classes cannot link to it, so {@code jdk=} is then
 * refused with a message.
 */
public final class UsethreadAgent {
    private UsethreadAgent() {
    }

    /**
     * True if the agent runs in this JVM (from -javaagent or an earlier install). Asks the runtime
     * copy the agent marks (the boot loader's, or this loader's when the agent runs here), never a
     * system property that any code could set.
     *
     * @return whether the agent runs in this JVM
     */
    public static boolean isInstalled() {
        if (AgentMain.isRunning()) {
            return true; // the agent runs in this class loader (the runtime copy is here)
        }
        try {
            Class<?> status = Class.forName("dev.usethread.internal.AgentStatus", true, null);
            return (Boolean) status.getMethod("isInstalled").invoke(null);
        } catch (ClassNotFoundException e) {
            return false; // the agent jar is not on the boot class path: not installed
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read the usethread agent's status", e);
        }
    }

    /** Installs with default options. Does nothing if already installed. */
    public static void install() {
        install("");
    }

    /**
     * Installs with the given options (the -javaagent argument syntax). Does nothing if already
     * installed.
     *
     * @param options the options, as after {@code -javaagent:usethread-agent.jar=}; null or empty
     *     for the defaults
     * @throws IllegalArgumentException if an option is bad (the message names it and lists the valid ones)
     * @throws IllegalStateException if the JVM does not allow attaching an agent
     */
    public static synchronized void install(String options) {
        if (isInstalled()) {
            return;
        }
        System.clearProperty(AgentLauncher.FAILURE_PROPERTY);
        try {
            // Checked here too, so that the caller gets the message (the attach reports only "failed").
            // These config classes are a private copy in the application's loader; nothing is shared.
            AgentConfig.parse(options, System.getProperties());
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        File jar;
        try {
            jar = AgentLauncher.ownJar();
        } catch (Exception e) {
            throw new IllegalStateException("cannot find the usethread agent jar", e);
        }
        if (!jar.isFile()) {
            throw new IllegalStateException("usethread agent must be loaded from its jar to install itself, not " + jar);
        }
        try {
            ByteBuddyAgent.attach(jar, String.valueOf(ProcessHandle.current().pid()), options == null ? "" : options);
        } catch (RuntimeException e) {
            String failure = System.getProperty(AgentLauncher.FAILURE_PROPERTY);
            throw new IllegalStateException(failure != null ? failure
                    : "could not attach the usethread agent to this JVM: " + e.getMessage(), e);
        }
        if (!isInstalled()) {
            String failure = System.getProperty(AgentLauncher.FAILURE_PROPERTY);
            throw new IllegalStateException(failure != null ? failure
                    : "the usethread agent was attached but did not start (bad options?)");
        }
    }
}
