package dev.usethread.agent.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.usethread.agent.StandardError;
import dev.usethread.agent.weave.Weaver;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The woven-class cache gives back exactly what weaving gave, or nothing: never other bytes, whatever
 * is on disk. Real class files (JDK and ASM classes) woven by the real weaver.
 */
class WovenClassCacheTest {
    private static final long BUILD = 0x1234_5678_9abc_def0L;
    private static final String ORIGIN = "file:/app/lib/classes.jar";
    private static final String[] CLASSES = {"java/util/ArrayList", "java/util/HashMap", "java/util/TreeMap",
        "java/util/LinkedList", "java/util/regex/Pattern", "java/util/regex/Matcher", "java/lang/Runnable",
        "java/util/function/Function", "java/io/Serializable", "java/util/concurrent/ConcurrentHashMap",
        "java/math/BigInteger", "java/math/BigDecimal", "org/objectweb/asm/ClassReader",
        "org/objectweb/asm/ClassWriter", "org/objectweb/asm/MethodWriter", "org/objectweb/asm/Opcodes",
        "org/objectweb/asm/Label", "org/objectweb/asm/Type", "java/util/Collections", "java/util/Arrays"};

    /** A class file and what the weaver made of it (woven null: nothing to poll). */
    static final class Woven {
        final byte[] original;
        final byte[] woven;
        final int polls;

        Woven(byte[] original) {
            this.original = original;
            Weaver.Outcome o = Weaver.weave(original);
            assertThat(o.skipReason()).isNull();
            this.woven = o.bytes();
            this.polls = o.polls();
        }
    }

    static Map<String, Woven> classes() throws IOException {
        Map<String, Woven> out = new LinkedHashMap<>();
        for (String name : CLASSES) {
            try (InputStream in = ClassLoader.getSystemResourceAsStream(name + ".class")) {
                out.put(name, new Woven(in.readAllBytes()));
            }
        }
        return out;
    }

    private static void addAll(WovenClassCache cache, Iterable<Woven> classes) {
        for (Woven w : classes) {
            cache.add(w.original, ORIGIN, w.woven, w.polls);
        }
    }

    /** Every class either found with exactly its woven bytes and polls, or not found; returns how many were found. */
    private static int assertFoundRightOrNotAtAll(WovenClassCache cache, Map<String, Woven> classes) {
        int found = 0;
        for (Map.Entry<String, Woven> e : classes.entrySet()) {
            WovenClassCache.Hit hit = cache.find(e.getValue().original, ORIGIN);
            if (hit != null) {
                assertThat(hit.bytes()).as(e.getKey()).isEqualTo(e.getValue().woven);
                found++;
            }
        }
        return found;
    }

    @Test
    void givesBackWhatWeavingGaveInTheNextRun(@TempDir Path dir) throws Exception {
        Map<String, Woven> classes = classes();
        assertThat(classes.values()).anyMatch(w -> w.woven == null).anyMatch(w -> w.woven != null);
        WovenClassCache first = WovenClassCache.open(dir, BUILD);
        assertThat(assertFoundRightOrNotAtAll(first, classes)).isZero();
        addAll(first, classes.values());
        assertThat(first.added()).isEqualTo(classes.size());
        first.persist();
        first.add(classes.get("java/util/ArrayList").original, ORIGIN, new byte[] {1}, 1); // after exit: not kept

        WovenClassCache next = WovenClassCache.open(dir, BUILD);
        for (Map.Entry<String, Woven> e : classes.entrySet()) {
            WovenClassCache.Hit hit = next.find(e.getValue().original, ORIGIN);
            assertThat(hit).as(e.getKey()).isNotNull();
            assertThat(hit.bytes()).as(e.getKey()).isEqualTo(e.getValue().woven);
            assertThat(hit.polls()).as(e.getKey()).isEqualTo(e.getValue().polls);
        }
        assertThat(next.hits()).isEqualTo(classes.size());
        byte[] changed = classes.get("java/util/HashMap").original.clone();
        changed[changed.length - 1] ^= 1;
        assertThat(next.find(changed, ORIGIN)).as("one byte changed").isNull();
        List<Path> segments = WovenClassCache.segmentFiles(dir, BUILD);
        assertThat(segments).hasSize(1);
        next.persist(); // nothing added: nothing written
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).containsExactlyElementsOf(segments); // no spool or temporary file left
        }
        // Another agent build never reads it.
        assertThat(assertFoundRightOrNotAtAll(WovenClassCache.open(dir, BUILD + 1), classes)).isZero();
    }

    /**
     * CRCs are linear: whoever controls a class's bytes can give them another class's key. So a class
     * is copied only for the location it was woven from, and one without a location is never kept.
     */
    @Test
    void aClassIsCopiedOnlyForTheOriginItWasWovenFrom(@TempDir Path dir) throws Exception {
        Woven list = classes().get("java/util/ArrayList");
        Woven map = classes().get("java/util/HashMap");
        WovenClassCache first = WovenClassCache.open(dir, BUILD);
        first.add(list.original, ORIGIN, list.woven, list.polls);
        first.add(list.original, "file:/plugins/other.jar", map.woven, map.polls); // same key, other origin
        first.add(map.original, null, map.woven, map.polls); // generated at run time: not kept
        assertThat(first.added()).isEqualTo(2);
        first.persist();
        WovenClassCache next = WovenClassCache.open(dir, BUILD);
        assertThat(next.find(list.original, ORIGIN).bytes()).isEqualTo(list.woven);
        assertThat(next.find(list.original, "file:/plugins/other.jar").bytes()).isEqualTo(map.woven);
        assertThat(next.find(list.original, "file:/elsewhere.jar")).isNull();
        assertThat(next.find(list.original, null)).isNull();
        assertThat(next.find(map.original, ORIGIN)).isNull();
    }

    @Test
    void twoJvmsExitingOneAfterTheOtherKeepBothRunsClasses(@TempDir Path dir) throws Exception {
        Map<String, Woven> classes = classes();
        List<Woven> all = new ArrayList<>(classes.values());
        WovenClassCache a = WovenClassCache.open(dir, BUILD);
        WovenClassCache b = WovenClassCache.open(dir, BUILD);
        addAll(a, all.subList(0, 12));
        addAll(b, all.subList(8, all.size())); // four in both
        a.persist();
        b.persist();
        WovenClassCache next = WovenClassCache.open(dir, BUILD);
        assertThat(assertFoundRightOrNotAtAll(next, classes)).isEqualTo(classes.size());
    }

    @Test
    void eachExitAddsASegmentAndTheEighthMergesThem(@TempDir Path dir) throws Exception {
        List<Woven> all = new ArrayList<>(classes().values());
        int mostFiles = 0;
        for (Woven w : all) { // one run per class, each adding only its class
            WovenClassCache run = WovenClassCache.open(dir, BUILD);
            assertThat(run.find(w.original, ORIGIN)).isNull();
            run.add(w.original, ORIGIN, w.woven, w.polls);
            run.persist();
            mostFiles = Math.max(mostFiles, WovenClassCache.segmentFiles(dir, BUILD).size());
        }
        assertThat(mostFiles).isEqualTo(WovenClassCache.MAX_SEGMENTS - 1);
        assertThat(WovenClassCache.segmentFiles(dir, BUILD).size()).isLessThan(WovenClassCache.MAX_SEGMENTS);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).allMatch(p -> p.getFileName().toString().endsWith(".bin")); // no spool or .tmp
        }
        assertThat(assertFoundRightOrNotAtAll(WovenClassCache.open(dir, BUILD), classes())).isEqualTo(all.size());
    }

    @Test
    void twoJvmsMergingAtOnceLoseNoClass(@TempDir Path tmp) throws Exception {
        List<Woven> all = new ArrayList<>(classes().values());
        for (int round = 0; round < 20; round++) {
            Path dir = Files.createDirectories(tmp.resolve("r" + round));
            for (int i = 0; i < WovenClassCache.MAX_SEGMENTS - 1; i++) { // seven files: the next two exits merge
                WovenClassCache run = WovenClassCache.open(dir, BUILD);
                run.add(all.get(i).original, ORIGIN, all.get(i).woven, all.get(i).polls);
                run.persist();
            }
            WovenClassCache a = WovenClassCache.open(dir, BUILD);
            WovenClassCache b = WovenClassCache.open(dir, BUILD);
            addAll(a, all.subList(7, 14));
            addAll(b, all.subList(13, all.size())); // one class in both
            java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
            Thread other = new Thread(() -> {
                await(start);
                b.persist();
            });
            other.start();
            await(start);
            a.persist();
            other.join(60_000);
            assertThat(other.isAlive()).isFalse();
            assertThat(assertFoundRightOrNotAtAll(WovenClassCache.open(dir, BUILD), classes())).as("round " + round)
                    .isEqualTo(all.size());
            assertThat(WovenClassCache.segmentFiles(dir, BUILD)).as("round " + round).hasSizeBetween(1, 2);
        }
    }

    private static void await(java.util.concurrent.CyclicBarrier barrier) {
        try {
            barrier.await(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aDamagedFileNeverGivesOtherBytesAndIsWrittenAnew(@TempDir Path tmp) throws Exception {
        Map<String, Woven> classes = classes();
        Path good = Files.createDirectories(tmp.resolve("good"));
        WovenClassCache writer = WovenClassCache.open(good, BUILD);
        addAll(writer, classes.values());
        writer.persist();
        byte[] file = Files.readAllBytes(WovenClassCache.segmentFiles(good, BUILD).get(0));
        Random random = new Random(20261130);
        int foundInDamaged = 0;
        for (int i = 0; i < 300; i++) {
            int mutant = i;
            byte[] damaged = file.clone();
            if (i % 10 == 0) {
                damaged = java.util.Arrays.copyOf(damaged, random.nextInt(damaged.length)); // cut short
            } else {
                int at = i % 2 == 0 ? random.nextInt(Math.min(damaged.length, 4096)) : random.nextInt(damaged.length);
                damaged[at] ^= (byte) (1 + random.nextInt(255)); // the header and index, or anywhere
            }
            Path dir = Files.createDirectories(tmp.resolve("d" + i));
            Path path = Files.write(dir.resolve(WovenClassCache.prefix(BUILD) + "0-damaged.bin"), damaged);
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            String[] err = new String[1];
            WovenClassCache[] opened = new WovenClassCache[1];
            err[0] = StandardError.capture(() -> opened[0] = WovenClassCache.open(dir, BUILD));
            WovenClassCache cache = opened[0];
            List<Woven> missing = new ArrayList<>();
            err[0] += StandardError.capture(() -> {
                for (Woven w : classes.values()) {
                    WovenClassCache.Hit hit = cache.find(w.original, ORIGIN);
                    if (hit == null) {
                        missing.add(w);
                    } else {
                        assertThat(hit.bytes()).as("mutant " + mutant).isEqualTo(w.woven);
                    }
                }
            });
            foundInDamaged += classes.size() - missing.size();
            assertThat(err[0].lines()).as("mutant " + i + ": " + err[0]).hasSizeLessThanOrEqualTo(2)
                    .allMatch(l -> l.startsWith("[usethread-agent] cache="));
            addAll(cache, missing); // what a run does: weave again what the cache did not give
            cache.persist();
            WovenClassCache repaired = WovenClassCache.open(dir, BUILD);
            assertThat(assertFoundRightOrNotAtAll(repaired, classes)).as("mutant " + i + " repaired")
                    .isEqualTo(classes.size());
            assertThat(WovenClassCache.segmentFiles(dir, BUILD)).as("mutant " + i).hasSizeLessThanOrEqualTo(2);
        }
        assertThat(foundInDamaged).as("most damage touches one class or none").isGreaterThan(0);
    }

    @Test
    void aFileOthersMayWriteOrALinkIsNotRead(@TempDir Path tmp) throws Exception {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("unix"),
                "POSIX permissions are checked only where the file system has them");
        Map<String, Woven> classes = classes();
        Path dir = Files.createDirectories(tmp.resolve("c"));
        WovenClassCache writer = WovenClassCache.open(dir, BUILD);
        addAll(writer, classes.values());
        writer.persist();
        Path file = WovenClassCache.segmentFiles(dir, BUILD).get(0);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");

        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-r--"));
        WovenClassCache[] opened = new WovenClassCache[1];
        String err = StandardError.capture(() -> opened[0] = WovenClassCache.open(dir, BUILD));
        assertThat(err).contains("not read: group or others may write it (mode 664)");
        assertThat(assertFoundRightOrNotAtAll(opened[0], classes)).isZero();
        opened[0].persist(); // nothing added: the file is left to its owner

        // A link named like a segment: never read or written through; this run's classes go to a new file.
        Path elsewhere = Files.writeString(tmp.resolve("elsewhere"), "keep");
        Files.delete(file);
        Files.createSymbolicLink(file, elsewhere);
        err = StandardError.capture(() -> opened[0] = WovenClassCache.open(dir, BUILD));
        assertThat(err).contains("not read: not a regular file");
        addAll(opened[0], classes.values());
        opened[0].persist();
        assertThat(elsewhere).hasContent("keep");
        assertThat(WovenClassCache.segmentFiles(dir, BUILD)).hasSize(2).contains(file);
        assertThat(assertFoundRightOrNotAtAll(WovenClassCache.open(dir, BUILD), classes)).isEqualTo(classes.size());
    }

    @Test
    void aFileOfAnotherUserIsNotRead(@TempDir Path dir) throws Exception {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("unix"),
                "owners are compared only where the file system has uids");
        Path probe = Files.createFile(dir.resolve("probe"));
        assertThat(WovenClassCache.processUid(dir)).isEqualTo(Files.getAttribute(probe, "unix:uid"));
        Files.delete(probe);
        Map<String, Woven> classes = classes();
        WovenClassCache writer = WovenClassCache.open(dir, BUILD);
        addAll(writer, classes.values());
        writer.persist();
        Path file = WovenClassCache.segmentFiles(dir, BUILD).get(0);
        try {
            Files.setAttribute(file, "unix:uid", 4242);
        } catch (java.io.IOException notRoot) {
            assumeTrue(false, "giving a file to another user needs root: " + notRoot);
        }
        WovenClassCache[] opened = new WovenClassCache[1];
        String err = StandardError.capture(() -> opened[0] = WovenClassCache.open(dir, BUILD));
        assertThat(err).contains("not read: owned by uid 4242, not by this process's uid");
        assertThat(assertFoundRightOrNotAtAll(opened[0], classes)).isZero();
    }

    @Test
    void aDirectoryThatCannotBeWrittenIsSaidOnceAndWeavingGoesOn(@TempDir Path tmp) throws Exception {
        Path notADirectory = Files.writeString(tmp.resolve("file"), "x");
        Map<String, Woven> classes = classes();
        String err = StandardError.capture(() -> {
            WovenClassCache cache = WovenClassCache.open(notADirectory.resolve("c"), BUILD);
            addAll(cache, classes.values());
            assertThat(cache.find(classes.get("java/util/ArrayList").original, ORIGIN)).isNull();
            cache.persist();
        });
        assertThat(err.lines()).hasSize(1);
        assertThat(err)
                .startsWith("[usethread-agent] cache='" + notADirectory.resolve("c") + "': new classes not kept");
        err = StandardError.capture(() -> {
            WovenClassCache cache = WovenClassCache.open(notADirectory, BUILD);
            addAll(cache, classes.values());
            cache.persist();
        });
        assertThat(err).isEqualTo("[usethread-agent] cache='" + notADirectory + "': not used: not a directory"
                + System.lineSeparator());
    }
}
