package dev.usethread.internal;

/** Whether the usethread agent is weaving polls into this JVM. Set by the agent at start-up. */
public final class AgentStatus {
    private static volatile boolean installed;

    private AgentStatus() {
    }

    public static boolean isInstalled() {
        return installed;
    }

    /**
     * Called by the agent once it weaves. Only the agent's own start-up class, defined by the loader
     * that defined this class, may call it: no other code can make {@code isIntrusive()} lie.
     *
     * @throws IllegalStateException for any other caller
     */
    public static void markInstalled() {
        Class<?> caller = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).getCallerClass();
        if (!caller.getName().equals("dev.usethread.agent.AgentMain")
                || caller.getClassLoader() != AgentStatus.class.getClassLoader()) {
            throw new IllegalStateException("only the usethread agent marks itself installed, not " + caller.getName());
        }
        installed = true;
    }
}
