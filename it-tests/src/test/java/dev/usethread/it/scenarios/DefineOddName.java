package dev.usethread.it.scenarios;

import java.io.InputStream;

/**
 * Defines a class under a name a class loader chose: {@code defineClass(".tmp.x.Pwned")} reaches the agent
 * as {@code /tmp/x/Pwned}, which {@code dump=} must not write. The bytes are Hello's, so the JVM rejects
 * the name after the agent has woven them. Argument: the dotted name.
 */
public final class DefineOddName {
    public static void main(String[] args) throws Exception {
        byte[] bytes;
        try (InputStream in = Hello.class.getResourceAsStream("Hello.class")) {
            bytes = in.readAllBytes();
        }
        try {
            new Definer().define(args[0], bytes);
            System.out.println("DEFINED");
        } catch (LinkageError e) {
            System.out.println("REJECTED " + e.getClass().getSimpleName());
        }
        System.out.println("DONE");
    }

    private static final class Definer extends ClassLoader {
        Definer() {
            super(DefineOddName.class.getClassLoader());
        }

        void define(String name, byte[] bytes) {
            defineClass(name, bytes, 0, bytes.length);
        }
    }
}
