package dev.usethread.it.scenarios;

import java.io.InputStream;

/**
 * Offers the agent a class file it cannot read (a class-file version from the future), twice, in
 * two loaders. The agent must leave it alone and say so once; the JVM then rejects it itself.
 */
public final class Unweavable {
    /** The victim: any class will do. */
    public static final class Victim {
    }

    static final class Loader extends ClassLoader {
        Loader() {
            super(Unweavable.class.getClassLoader());
        }

        Class<?> define(byte[] bytes) {
            return defineClass(Victim.class.getName(), bytes, 0, bytes.length);
        }
    }

    public static void main(String[] args) throws Exception {
        byte[] bytes;
        try (InputStream in = Unweavable.class.getResourceAsStream("Unweavable$Victim.class")) {
            bytes = in.readAllBytes();
        }
        bytes[6] = 0;
        bytes[7] = 99; // major version 99
        for (int i = 0; i < 2; i++) {
            try {
                new Loader().define(bytes);
                System.out.println("DEFINED");
            } catch (UnsupportedClassVersionError expected) {
                System.out.println("REJECTED_BY_JVM");
            }
        }
        System.out.println("OK");
    }
}
