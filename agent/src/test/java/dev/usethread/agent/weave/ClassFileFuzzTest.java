package dev.usethread.agent.weave;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.FileOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * Mutated class files of real libraries (ASM, JUnit, AssertJ from the test class path), each
 * defined and linked (so verified: class loaders other than the boot loader are verified by
 * default) with and without weaving, in fresh class loaders: the same mutants must load and the same
 * must fail, with the same error class; weaving must never throw, and must allocate no more than
 * {@code 64 × size + 64 KiB} per class. The defining runs in a child JVM (see the test method: HotSpot can crash
 * on some malformed originals). Seeded: {@code -Dusethread.fuzz.seed=N}; more mutants with
 * {@code -Dusethread.fuzz.mutants=N} (default 3,000).
 */
class ClassFileFuzzTest {
    private static final long SEED = Long.getLong("usethread.fuzz.seed", 20_260_611L);
    private static final int MUTANTS = Integer.getInteger("usethread.fuzz.mutants", 3_000);
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /**
     * Runs the comparison in a child JVM, because HotSpot 17 itself can crash (SIGSEGV in
     * {@code ClassFileParser::parse_method}) on some truncated class files, unwoven, depending on what lies
     * past the end of the buffer. Before each define the child writes the mutant and phase to a progress
     * file: a crash defining the original is a JDK bug, so that mutant is skipped (counted, printed) and the
     * run repeated; a crash defining the woven bytes fails the test, naming the mutant.
     */
    @Test
    void mutantsLoadTheSameWithAndWithoutWeavingAndCostBoundedMemory() throws Exception {
        Set<Integer> crashedUnwoven = new TreeSet<>();
        List<String> crashes = new ArrayList<>();
        for (int attempt = 0; attempt <= MAX_JVM_CRASHES; attempt++) {
            Path progress = Files.createTempFile("usethread-fuzz", ".progress");
            Path output = Files.createTempFile("usethread-fuzz", ".out");
            try {
                String skip = crashedUnwoven.stream().map(String::valueOf).collect(Collectors.joining(","));
                Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-XX:ErrorFile=" + Path.of("target", "fuzz-hs_err_pid%p.log").toAbsolutePath(), "-XX:-CreateCoredumpOnCrash",
                        "-cp", System.getProperty("java.class.path"),
                        "-Dusethread.fuzz.seed=" + SEED, "-Dusethread.fuzz.mutants=" + MUTANTS,
                        ClassFileFuzzTest.class.getName(), progress.toString(), skip)
                        .redirectErrorStream(true).redirectOutput(output.toFile()).start();
                if (!child.waitFor(10, TimeUnit.MINUTES)) {
                    child.destroyForcibly();
                    throw new AssertionError("fuzz child JVM still running after 10 minutes; its output: " + Files.readString(output));
                }
                String out = Files.readString(output);
                System.out.print(out);
                List<String> lines = Files.readAllLines(progress);
                String last = lines.isEmpty() ? "(nothing)" : lines.get(lines.size() - 1);
                if (child.exitValue() == 0 && last.equals(PASSED)) {
                    System.out.println("FUZZ skipped " + crashedUnwoven.size() + " mutants whose ORIGINAL bytes crashed the JVM"
                            + " (HotSpot bug on malformed input, not weaving): " + crashes);
                    return;
                }
                String[] crash = last.split(" ", 3); // "<mutant> <phase> <label>", written before each define
                if (crash.length < 3 || !crash[0].matches("[0-9]+")) {
                    throw new AssertionError("fuzz child JVM exited " + child.exitValue() + " after: " + last + "; its output:\n" + out);
                }
                String what = "JVM crashed (exit " + child.exitValue() + ", see target/fuzz-hs_err_pid*.log) defining " + crash[1]
                        + " " + crash[2];
                if (crash[1].equals(WOVEN)) {
                    throw new AssertionError("the " + what + " (its original bytes had just been defined without a crash)");
                }
                System.out.println("FUZZ the " + what + ": a HotSpot bug on malformed input; repeating without that mutant");
                crashes.add(crash[2]);
                crashedUnwoven.add(Integer.parseInt(crash[0]));
            } finally {
                Files.deleteIfExists(progress);
                Files.deleteIfExists(output);
            }
        }
        throw new AssertionError("the JVM crashed more than " + MAX_JVM_CRASHES + " times on original mutants: " + crashes);
    }

    /** At scale HotSpot crashes about once per few thousand mutants; each crash costs one rerun. */
    private static final int MAX_JVM_CRASHES = 5 + MUTANTS / 1000;
    private static final String PASSED = "PASSED";
    private static final String UNWOVEN = "unwoven";
    private static final String WOVEN = "woven";

    /** The child JVM: args are the progress file and the mutants not to define (comma-separated). */
    public static void main(String[] args) throws Exception {
        Set<Integer> skip = new TreeSet<>();
        for (String m : args.length > 1 ? args[1].split(",") : new String[0]) {
            if (!m.isEmpty()) {
                skip.add(Integer.parseInt(m));
            }
        }
        try (FileOutputStream progress = new FileOutputStream(args[0])) {
            try {
                fuzz(skip, progress);
                progress.write((PASSED + "\n").getBytes(StandardCharsets.UTF_8));
            } catch (Throwable t) { // a failed assertion, not a crash: say so last
                t.printStackTrace();
                progress.write(("FAILED " + t.toString().replace('\n', ' ') + "\n").getBytes(StandardCharsets.UTF_8));
                System.exit(1);
            }
        }
    }

    private static void step(FileOutputStream progress, int m, String phase, String label) throws IOException {
        progress.write((m + " " + phase + " " + label + "\n").getBytes(StandardCharsets.UTF_8)); // unbuffered: survives a crash
    }

    static void fuzz(Set<Integer> skip, FileOutputStream progress) throws Exception {
        List<Original> originals = originals();
        assertThat(originals).hasSizeGreaterThan(200);
        Random random = new Random(SEED);
        // Warm-up: the first run of each path allocates once for its own linking (string concatenation
        // sites, exception classes); that is not a cost per class, so it is not measured.
        for (int m = 0; m < 500; m++) {
            Weaver.weave(mutate(originals.get(random.nextInt(originals.size())), random));
        }
        Map<String, Integer> outcomes = new TreeMap<>();
        Map<String, Integer> declinedValid = new TreeMap<>();
        List<String> differ = new ArrayList<>();
        long worstAllocation = 0;
        String worst = "";
        long weaveNanos = 0;
        long loadNanos = 0;
        long bytesIn = 0;
        for (int m = 0; m < MUTANTS; m++) {
            Original o = originals.get(random.nextInt(originals.size()));
            byte[] mutant = mutate(o, random);
            String label = "mutant " + m + " of " + o.name + " (seed " + SEED + ")";
            long tid = Thread.currentThread().getId();
            long before = THREADS.getThreadAllocatedBytes(tid);
            long t0 = System.nanoTime();
            Weaver.Outcome outcome = Weaver.weave(mutant); // must not throw, whatever the input
            weaveNanos += System.nanoTime() - t0;
            long allocated = THREADS.getThreadAllocatedBytes(tid) - before;
            bytesIn += mutant.length;
            if (allocated > worstAllocation) {
                worstAllocation = allocated;
                worst = label + ", " + mutant.length + " bytes, " + (outcome.woven() ? "woven" : outcome.skipReason());
            }
            assertThat(allocated).as("bytes allocated weaving %s of %d bytes", label, mutant.length)
                    .isLessThanOrEqualTo(64L * mutant.length + 64 * 1024);
            if (skip.contains(m)) { // its original crashed the JVM in an earlier run
                outcomes.merge("skipped, the JVM crashed on the original", 1, Integer::sum);
                continue;
            }
            step(progress, m, UNWOVEN, label);
            long t1 = System.nanoTime();
            String unwoven = load(mutant);
            loadNanos += System.nanoTime() - t1;
            if (!outcome.woven()) {
                outcomes.merge((unwoven.equals("ok") ? "loads" : "fails") + ", left as it was", 1, Integer::sum);
                if (unwoven.equals("ok") && outcome.skipReason() != null) { // valid, yet not woven: why
                    declinedValid.merge(outcome.skipReason().replaceAll("[0-9]+", "N").replaceAll(" in .*", ""), 1, Integer::sum);
                }
                continue;
            }
            step(progress, m, WOVEN, label);
            String woven = load(outcome.bytes());
            outcomes.merge((unwoven.equals("ok") ? "loads" : "fails") + ", woven", 1, Integer::sum);
            if (!woven.equals(unwoven)) {
                step(progress, m, UNWOVEN, label);
                Throwable unwovenError = loadError(mutant);
                step(progress, m, WOVEN, label);
                differ.add(label + ": without weaving " + unwovenError + ", woven " + loadError(outcome.bytes()));
            }
        }
        System.out.println("FUZZ " + MUTANTS + " mutants of " + originals.size() + " classes, seed " + SEED + ": "
                + outcomes + "; weaving " + weaveNanos / 1_000_000 + " ms for " + bytesIn / 1024 + " KiB (defining and linking"
                + " them unwoven: " + loadNanos / 1_000_000 + " ms); most allocated "
                + worstAllocation / 1024 + " KiB (" + worst + "); loadable mutants left unwoven because: " + declinedValid);
        assertThat(differ).isEmpty();
        // The mutants must reach the patcher's interesting paths, not only fail in the constant pool.
        assertThat(outcomes.getOrDefault("loads, woven", 0)).isGreaterThan(MUTANTS / 20);
        assertThat(outcomes.getOrDefault("fails, left as it was", 0)).isGreaterThan(MUTANTS / 10);
    }

    /** Defines {@code classFile} in a fresh loader and links it (verification included): "ok" or the error's class. */
    static String load(byte[] classFile) {
        Throwable t = loadError(classFile);
        return t == null ? "ok" : t.getClass().getName();
    }

    static Throwable loadError(byte[] classFile) {
        try {
            Class<?> c = new ClassLoader(ClassFileFuzzTest.class.getClassLoader()) {
                Class<?> define() {
                    return defineClass(null, classFile, 0, classFile.length);
                }
            }.define();
            c.getDeclaredMethods(); // links the class: the verifier runs here
            c.getDeclaredFields();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    /** A class of a library, with the offsets of its length and count fields (the mutations that matter most). */
    static final class Original {
        final String name;
        final byte[] bytes;
        final int methodsStart;
        final int[] fields;

        Original(String name, byte[] bytes, int methodsStart, int[] fields) {
            this.name = name;
            this.bytes = bytes;
            this.methodsStart = methodsStart;
            this.fields = fields;
        }
    }

    /** Classes up to 16 KiB that get polls and load, from the jars of ASM, JUnit and AssertJ; in a fixed order. */
    static List<Original> originals() throws IOException, URISyntaxException {
        List<Original> out = new ArrayList<>();
        for (Class<?> anchor : new Class<?>[] {org.objectweb.asm.ClassReader.class, Test.class,
                org.junit.platform.engine.TestEngine.class, org.assertj.core.api.Assertions.class}) {
            Path jar = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                List<ZipEntry> entries = new ArrayList<>(Collections.list(zip.entries()));
                entries.sort((a, b) -> a.getName().compareTo(b.getName()));
                int taken = 0;
                for (ZipEntry e : entries) {
                    if (!e.getName().endsWith(".class") || e.getName().contains("-info") || e.getSize() > 16 * 1024
                            || e.getName().startsWith("META-INF/") || taken >= 120) {
                        continue;
                    }
                    byte[] bytes = zip.getInputStream(e).readAllBytes();
                    if (Weaver.weave(bytes).polls() < 2 || !load(bytes).equals("ok")) {
                        continue;
                    }
                    Fields f = new Fields(bytes);
                    f.read();
                    out.add(new Original(e.getName(), bytes, f.methodsStart, f.offsets()));
                    taken++;
                }
            }
        }
        return out;
    }

    private static final int[] INTERESTING_U4 = {0, 1, -1, 0x7FFFFFFF, 0x80000000, 0xFFFF, 0x10000, 0x3FFFFFFF};
    private static final int[] INTERESTING_U2 = {0, 1, 2, 0x7FFF, 0x8000, 0xFFFF, 0xFFFE};

    /** One to three mutations: bytes, u2 and u4 values (mostly in the methods), length fields, truncation, moved chunks. */
    static byte[] mutate(Original o, Random r) {
        byte[] b = o.bytes.clone();
        int n = r.nextInt(3) != 0 ? 1 : 2 + r.nextInt(2);
        for (int i = 0; i < n; i++) {
            int methods = Math.min(o.methodsStart, b.length - 1); // b may have been truncated
            int at = r.nextInt(4) != 0 ? methods + r.nextInt(b.length - methods) : r.nextInt(b.length);
            switch (r.nextInt(8)) {
                case 0:
                    b[at] = (byte) r.nextInt(256);
                    break;
                case 1:
                    b[at] += r.nextBoolean() ? 1 : -1;
                    break;
                case 2:
                    putU2(b, at, INTERESTING_U2[r.nextInt(INTERESTING_U2.length)]);
                    break;
                case 3:
                    putU4(b, at, INTERESTING_U4[r.nextInt(INTERESTING_U4.length)]);
                    break;
                case 4: case 5: { // a length or count field: an interesting value or off by a little
                    int f = o.fields[r.nextInt(o.fields.length)];
                    int size = f >>> 28;
                    int p = f & 0x0FFFFFFF;
                    if (p + size > b.length) {
                        break;
                    }
                    if (size == 4) {
                        int old = ((b[p] & 0xFF) << 24) | ((b[p + 1] & 0xFF) << 16) | ((b[p + 2] & 0xFF) << 8) | (b[p + 3] & 0xFF);
                        putU4(b, p, r.nextBoolean() ? INTERESTING_U4[r.nextInt(INTERESTING_U4.length)] : old + r.nextInt(9) - 4);
                    } else {
                        int old = ((b[p] & 0xFF) << 8) | (b[p + 1] & 0xFF);
                        putU2(b, p, r.nextBoolean() ? INTERESTING_U2[r.nextInt(INTERESTING_U2.length)] : old + r.nextInt(5) - 2);
                    }
                    break;
                }
                case 6:
                    b = java.util.Arrays.copyOf(b, Math.max(10, at));
                    break;
                default: { // copy a chunk over another place (shifts nothing, duplicates structure)
                    int len = 1 + r.nextInt(Math.min(64, b.length - at));
                    int to = r.nextInt(b.length - len + 1);
                    System.arraycopy(b, at, b, to, len);
                }
            }
        }
        return b;
    }

    private static void putU2(byte[] b, int p, int v) {
        if (p + 1 < b.length) {
            b[p] = (byte) (v >>> 8);
            b[p + 1] = (byte) v;
        }
    }

    private static void putU4(byte[] b, int p, int v) {
        putU2(b, p, v >>> 16);
        putU2(b, p + 2, v);
    }

    /** Finds the offsets of counts and lengths: attribute lengths, code lengths, table counts (size in the top bits). */
    static final class Fields extends ClassFile {
        private static final byte[] CODE = ascii("Code");
        private final List<Integer> offsets = new ArrayList<>();
        int methodsStart;

        Fields(byte[] in) {
            super(in);
        }

        void read() {
            readConstantPool();
            offsets.add(2 << 28 | 8);
            int p = fieldsStart();
            for (int kind = 0; kind < 2; kind++) {
                if (kind == 1) {
                    methodsStart = p;
                }
                int members = u2(p);
                offsets.add(2 << 28 | p);
                p += 2;
                for (int i = 0; i < members; i++) {
                    p = attributes(p + 6, true);
                }
            }
            attributes(p, false);
        }

        private int attributes(int p, boolean member) {
            int count = u2(p);
            offsets.add(2 << 28 | p);
            p += 2;
            for (int a = 0; a < count; a++) {
                int len = attributeLength(p);
                offsets.add(4 << 28 | (p + 2));
                if (member && utf8Is(u2(p), CODE)) {
                    int codeLength = s4(p + 10);
                    offsets.add(4 << 28 | (p + 10));
                    int exc = p + 14 + codeLength;
                    offsets.add(2 << 28 | exc);
                    attributes(exc + 2 + 8 * u2(exc), false);
                } else if (len >= 2) {
                    offsets.add(2 << 28 | (p + 6)); // most attributes start with a count
                }
                p += 6 + len;
            }
            return p;
        }

        int[] offsets() {
            return offsets.stream().mapToInt(Integer::intValue).toArray();
        }
    }
}
