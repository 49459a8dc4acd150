package dev.usethread.agent;

import dev.usethread.agent.config.AgentConfig;
import java.io.File;
import java.io.PrintStream;

/** {@code java -jar usethread-agent.jar}: says what this jar is, how to use it, and its version. */
public final class AgentInfo {
    private AgentInfo() {
    }

    /**
     * Prints this jar's version, what it does, how to start it and its options on standard output.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        PrintStream out = System.out;
        String jar = jarPath();
        String name = jar == null ? "usethread-agent.jar" : new File(jar).getName();
        out.println("usethread agent " + AgentMain.version(jar));
        out.println("Intrusive cancellation for the JVM: weaves cancellation polls into loop back-edges and method");
        out.println("entries, so that cancel() on a useThread job stops it even in code that never checks a flag.");
        out.println();
        out.println("Usage:");
        out.println("  java -javaagent:" + name + " ...                    weave every class that is not the JDK's");
        out.println("  java -javaagent:" + name + "=include=com.acme.**;verbose ...");
        out.println("  JAVA_TOOL_OPTIONS=-javaagent:/path/to/" + name);
        out.println("  UsethreadAgent.install(\"options\") from code (attaches to the running JVM)");
        out.println();
        out.println(AgentConfig.usage());
    }

    private static String jarPath() {
        try {
            if (AgentInfo.class.getProtectionDomain().getCodeSource() != null) {
                return new File(AgentInfo.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getPath();
            }
        } catch (Exception e) {
            // fall through: java -jar puts the jar on java.class.path
        }
        String cp = System.getProperty("java.class.path", "");
        return cp.isEmpty() || cp.contains(File.pathSeparator) ? null : cp;
    }
}
