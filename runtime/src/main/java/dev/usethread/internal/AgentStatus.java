package dev.usethread.internal;

/** Whether the usethread agent is weaving polls into this JVM. Set by the agent at start-up. */
public final class AgentStatus {
    private static volatile boolean installed;

    private AgentStatus() {
    }

    public static boolean isInstalled() {
        return installed;
    }

    public static void markInstalled() {
        installed = true;
    }
}
