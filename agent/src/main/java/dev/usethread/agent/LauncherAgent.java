package dev.usethread.agent;

import java.lang.instrument.Instrumentation;

/**
 * The Launcher-Agent-Class: {@code java -jar usethread-agent.jar} starts the agent before
 * {@link AgentInfo#main}, as at start-up (not as a late attach). Touches only {@link AgentLauncher}.
 */
public final class LauncherAgent {
    private LauncherAgent() {
    }

    /**
     * Called by the JVM for {@code java -jar}: starts the agent as at start-up.
     *
     * @param args the agent's options, or null
     * @param inst the JVM's instrumentation
     * @throws Exception if the agent jar cannot be found or read, or the agent fails to start
     */
    public static void agentmain(String args, Instrumentation inst) throws Exception {
        AgentLauncher.start(args, inst, false);
    }
}
