package dev.usethread.bench;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;

/**
 * Baselines for the start-up benchmark, so that the agent's figure can be split into what any Java
 * agent costs and what usethread adds: {@code -javaagent:benchmarks.jar} is an agent that does
 * nothing; {@code -javaagent:benchmarks.jar=transformer} also registers a retransform-capable
 * transformer that returns every class unchanged (the JVM then hands each loaded class to Java).
 */
public final class BaselineAgent {
    private BaselineAgent() {
    }

    public static void premain(String args, Instrumentation inst) {
        if ("transformer".equals(args)) {
            inst.addTransformer(new ClassFileTransformer() {
                @Override
                public byte[] transform(ClassLoader loader, String name, Class<?> redefined,
                        ProtectionDomain domain, byte[] classFile) {
                    return null;
                }
            }, true);
        }
    }
}
