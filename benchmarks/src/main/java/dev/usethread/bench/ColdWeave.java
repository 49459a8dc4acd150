package dev.usethread.bench;

import dev.usethread.agent.weave.Weaver;

import java.io.File;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * The agent's weaver alone, from a fresh JVM: reads the class files {@link StartupApp} loads (the first
 * 3,000 in jar order, without defining them) and weaves all of them, round after round, printing each
 * round's time. Round 0 is what the weaver costs at an application's start-up, mostly before the JIT has
 * compiled it; the later rounds, its compiled speed. The agent jar goes on the boot class path, where
 * the agent runs (HotSpot honours the weaver's {@code @DontInline} only there):
 *
 * <pre>java -Xbootclasspath/a:agent/target/usethread-agent.jar -cp benchmarks/target/benchmarks.jar \
 *     dev.usethread.bench.ColdWeave [rounds]</pre>
 *
 * ({@code -Xint} for the interpreter's share.)
 */
public final class ColdWeave {
    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        try {
            Class.forName("dev.usethread.agent.weave.Weaver", false, null); // the boot loader's, or none
        } catch (ClassNotFoundException e) {
            System.err.println("put the agent jar on the boot class path: -Xbootclasspath/a:agent/target/usethread-agent.jar");
            System.exit(2);
        }
        List<byte[]> classes = new ArrayList<>();
        String jar = System.getProperty("java.class.path").split(File.pathSeparator)[0];
        try (JarFile file = new JarFile(jar)) {
            Enumeration<JarEntry> entries = file.entries();
            while (entries.hasMoreElements() && classes.size() < 3000) {
                JarEntry entry = entries.nextElement();
                if (StartupApp.isLibraryClass(entry.getName())) {
                    try (InputStream in = file.getInputStream(entry)) {
                        classes.add(in.readAllBytes());
                    }
                }
            }
        }
        for (int r = 0; r < rounds; r++) {
            long start = System.nanoTime();
            long total = 0;
            for (byte[] c : classes) {
                total += Weaver.weave(c).polls();
            }
            System.out.println("round " + r + ": " + (System.nanoTime() - start) / 1_000_000 + " ms, "
                    + classes.size() + " classes, " + total + " polls");
        }
    }
}
