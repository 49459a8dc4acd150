package dev.usethread.it.scenarios;

import org.python.util.PythonInterpreter;

/**
 * A Python {@code while True: pass} in Jython, which compiles it to a JVM class at run time. Jython
 * wraps the signal in its own exception; the job still ends CANCELLED. Its own classes (version 49)
 * carry CLDC StackMap attributes inside their code, which the JVM ignores and the weaver drops.
 */
public final class JythonScript {
    public static void main(String[] args) {
        Harness.run("jython", () -> {
            PythonInterpreter python = new PythonInterpreter();
            try {
                python.exec("while True:\n    pass\n");
                return null;
            } finally {
                python.cleanup();
            }
        }, e -> e.getClassName().startsWith("org.python.pycode."));
    }
}
