package dev.usethread.agent;

import java.lang.instrument.Instrumentation;

/**
 * The Launcher-Agent-Class: {@code java -jar usethread-agent.jar} starts the agent before
 * {@link AgentInfo#main}, as at start-up (not as a late attach). Touches only {@link AgentLauncher}.
 */
public final class LauncherAgent {
    private LauncherAgent() {
    }

    public static void agentmain(String args, Instrumentation inst) throws Exception {
        AgentLauncher.start(args, inst, false);
    }
}
