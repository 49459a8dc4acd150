package dev.usethread.bench;

import java.io.File;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * An "application" that loads about 3,000 classes (Guava, commons-math, Jackson, Rhino from the
 * benchmarks jar) without initializing them. run.sh times whole JVM runs with and without the agent.
 */
public final class StartupApp {
    public static void main(String[] args) throws Exception {
        int limit = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
        String jar = System.getProperty("java.class.path").split(File.pathSeparator)[0];
        ClassLoader loader = StartupApp.class.getClassLoader();
        int loaded = 0;
        try (JarFile file = new JarFile(jar)) {
            Enumeration<JarEntry> entries = file.entries();
            while (entries.hasMoreElements() && loaded < limit) {
                String name = entries.nextElement().getName();
                if (!isLibraryClass(name)) {
                    continue;
                }
                try {
                    Class.forName(name.substring(0, name.length() - 6).replace('/', '.'), false, loader);
                    loaded++;
                } catch (Throwable skipped) {
                    // optional dependencies missing from the jar: not loadable, not counted
                }
            }
        }
        System.out.println(loaded);
    }

    /** A jar entry of the libraries this app loads: Guava, commons-math, Jackson, Rhino. */
    static boolean isLibraryClass(String name) {
        return name.endsWith(".class") && !name.contains("module-info")
                && (name.startsWith("com/google/common/") || name.startsWith("org/apache/commons/math3/")
                        || name.startsWith("com/fasterxml/jackson/") || name.startsWith("org/mozilla/javascript/"));
    }
}
