package dev.usethread.agent.cache;

import dev.usethread.agent.config.Quote;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;

/**
 * The opt-in store of woven class files ({@code cache=<directory>}): what weaving a class gave, kept
 * across JVM runs so that the next start-up copies it instead of weaving again. Weaving depends only on
 * the class file's bytes and on the agent build, so an entry is found by the bytes (their length,
 * CRC-32 and CRC-32C, which the JVM computes with intrinsics) in the files of this agent build
 * ({@code woven-<build>-<id>.bin}; the build is a CRC of the agent jar and the weaver in use), and
 * only for the same origin: the location the class was loaded from (its code source; "jdk" for the
 * JDK's loaders). CRCs are linear, so whoever controls a class file's bytes can give it the CRCs of
 * another class; the origin confines that to classes of the same location (code that defines classes
 * with a forged code source can write the cache directory anyway). A class without a location (one a
 * script engine or proxy generates at run time) is never kept.
 *
 * <p>The cache is a few segment files. At start-up only their indexes are read (hash tables: one or
 * two probes a class, which matters while start-up runs this code interpreted); a woven class is read
 * when its class loads, through a window of its file (classes are stored in the order a run loaded
 * them, so the next run reads a file about once, front to back). What this run weaves that the cache
 * does not hold is spooled to an unlinked file and, when the JVM exits, written as a new segment
 * (written whole, then renamed into place: a reader never sees half a file). So an exit costs what
 * the run added, not the size of the cache. Once there are {@link #MAX_SEGMENTS}, one was found
 * damaged, or they would pass {@link #MAX_FILE_BYTES}, the exit merges them all into one (the newest
 * entries first, up to that size) and deletes them; of two JVMs merging at once, both
 * merged files stay (with the same entries) until the next merge. Only woven classes and classes
 * with nothing to poll are kept; a class left unwoven is weighed again, and said again, in each run.
 *
 * <p>The files are trusted like the class path: they are written readable and writable by their owner
 * only, and one is not read if it is a link, if others may write it, or (where the file system says)
 * if it is not owned by this process's user. Reading and writing never throws: a problem is said once
 * on standard error and the agent weaves as without it.
 */
public final class WovenClassCache {
    static final int MAGIC = 0x55545743; // "UTWC"
    static final int FORMAT = 1;
    static final int HEADER = 4 + 4 + 8 + 4 + 4; // magic, format, build, slots, bytes of the origin table
    /**
     * A slot of the index, an open-addressing hash table: key, original length (0: empty), polls, offset,
     * length, a CRC-32C of the woven bytes (checked before they are used: a damaged disk block is woven
     * again, never defined), and the origin's number in the segment's origin table.
     */
    static final int ENTRY = 8 + 4 + 4 + 4 + 4 + 4 + 4;
    /** Index slots a segment may have: twice a million classes, far more than 512 MiB of them need. */
    static final int MAX_SLOTS = 1 << 21;
    /** Bounds on the origin table, which lists the locations (jar or directory URLs) classes came from. */
    static final int MAX_ORIGIN_BYTES = 16 << 20;
    /** The cache stops growing here (a merge keeps the newest segments' entries up to it). */
    static final long MAX_FILE_BYTES = 512L << 20;
    /** At this many segment files the next exit that adds entries merges them into one. */
    static final int MAX_SEGMENTS = 8;
    static final int WINDOW = 64 * 1024;

    /** A woven class copied from the cache: its bytes (null: nothing to poll, leave it as it was) and polls. */
    public static final class Hit {
        private final byte[] bytes;
        private final int polls;

        Hit(byte[] bytes, int polls) {
            this.bytes = bytes;
            this.polls = polls;
        }

        public byte[] bytes() {
            return bytes;
        }

        public int polls() {
            return polls;
        }
    }

    private static final Hit NOTHING_TO_POLL = new Hit(null, 0);

    private final Path dir;
    private final long build;
    private final List<Stored> segments; // read at start-up
    private final long storedBytes;
    private volatile boolean damaged; // a segment gave bytes whose CRC did not match: merge at exit
    private FileChannel spool; // created on the first entry this run adds
    private ByteBuffer spoolBuffer; // with the spool
    private long spooled; // bytes written to the spool, including the buffer's
    private final List<Entry> added = new ArrayList<>();
    private volatile boolean closed;
    private boolean failed;
    private volatile boolean saidUnreadable;
    private long hits;

    private WovenClassCache(Path dir, long build, List<Stored> segments) {
        this.dir = dir;
        this.build = build;
        this.segments = segments;
        long bytes = 0;
        for (Stored segment : segments) {
            bytes += segment.size;
        }
        this.storedBytes = bytes;
    }

    /** The prefix of this build's segment files; each is {@code <prefix><id>.bin}. */
    static String prefix(long build) {
        return "woven-" + Long.toHexString(build) + "-";
    }

    /** This build's segment files in {@code dir}, by name (java.io: no glob or regex at start-up). */
    static List<Path> segmentFiles(Path dir, long build) {
        String[] names = dir.toFile().list();
        List<Path> out = new ArrayList<>();
        if (names == null) {
            return out;
        }
        Arrays.sort(names);
        String prefix = prefix(build);
        for (String name : names) {
            if (name.startsWith(prefix) && name.endsWith(".bin")) {
                out.add(dir.resolve(name));
            }
        }
        return out;
    }

    /**
     * This agent build: a CRC-32 of the agent jar, mixed with the weaver in use ({@code usethread.weaver}),
     * so that a rebuilt agent never reads what another build wove.
     */
    public static long build(File agentJar, String weaver) throws IOException {
        byte[] jar;
        try (RandomAccessFile in = new RandomAccessFile(agentJar, "r")) {
            long size = in.length();
            if (size > 64L << 20) {
                throw new IOException("the agent jar is larger than 64 MiB");
            }
            jar = new byte[(int) size];
            in.readFully(jar);
        }
        CRC32 crc = new CRC32();
        crc.update(jar, 0, jar.length);
        CRC32C mode = new CRC32C();
        byte[] w = weaver.getBytes(StandardCharsets.UTF_8);
        mode.update(w, 0, w.length);
        return crc.getValue() << 32 | mode.getValue();
    }

    /** Opens the cache in {@code dir} for this agent build; never null, never throws. */
    public static WovenClassCache open(Path dir, long build) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            say(dir, "not used: not a directory");
            WovenClassCache none = new WovenClassCache(dir, build, new ArrayList<>());
            none.failed = true;
            return none;
        }
        List<Stored> segments = new ArrayList<>();
        boolean said = false;
        for (Path file : segmentFiles(dir, build)) {
            String problem;
            try {
                problem = untrusted(file);
                if (problem == null) {
                    segments.add(Stored.open(file, build));
                }
            } catch (NoSuchFileException e) {
                problem = null; // merged away by another JVM since the listing
            } catch (IOException | RuntimeException e) {
                problem = reason(e);
            }
            if (problem != null && !said) { // once: a run should not print a line per file
                said = true;
                say(dir, Quote.of(file.getFileName().toString()) + " not read: " + problem);
            }
        }
        return new WovenClassCache(dir, build, segments);
    }

    /**
     * Null if the cache file may be read: a regular file (not a link) that group and others may not
     * write and that this process's user owns (checked where the file system has the "unix" view;
     * a file there whose owner cannot be compared is not read).
     */
    static String untrusted(Path file) throws IOException {
        Map<String, Object> unix;
        try {
            unix = Files.readAttributes(file, "unix:mode,uid", LinkOption.NOFOLLOW_LINKS);
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            return Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) ? null : "not a regular file";
        }
        int mode = (Integer) unix.get("mode");
        if ((mode & 0170000) != 0100000) {
            return "not a regular file";
        }
        if ((mode & 022) != 0) {
            return "group or others may write it (mode " + Integer.toOctalString(mode & 0777) + ")";
        }
        Integer me = processUid(file.getParent());
        if (me == null) {
            return "cannot tell this process's user to compare with the file's owner";
        }
        if (!me.equals(unix.get("uid"))) {
            return "owned by uid " + unix.get("uid") + ", not by this process's uid " + me;
        }
        return null;
    }

    private static volatile Integer processUid;

    /**
     * This process's uid: the owner of /proc/self on Linux; elsewhere the owner of a file it creates in
     * {@code dir} (then deleted). Null if neither works (say, a read-only directory on macOS).
     */
    static Integer processUid(Path dir) {
        Integer uid = processUid;
        if (uid != null) {
            return uid;
        }
        try {
            uid = (Integer) Files.getAttribute(Paths.get("/proc/self"), "unix:uid");
        } catch (IOException | RuntimeException notLinux) {
            try {
                File probe = File.createTempFile("uid-", ".probe", dir.toFile());
                try {
                    uid = (Integer) Files.getAttribute(probe.toPath(), "unix:uid", LinkOption.NOFOLLOW_LINKS);
                } finally {
                    Files.deleteIfExists(probe.toPath());
                }
            } catch (IOException | RuntimeException cannot) {
                return null;
            }
        }
        processUid = uid;
        return uid;
    }

    /** The CRC-32C of woven bytes (0 for none). */
    static int crc(byte[] woven) {
        return woven == null ? 0 : crc(woven, woven.length);
    }

    private static int crc(byte[] bytes, int length) {
        if (length == 0) {
            return 0;
        }
        CRC32C c = new CRC32C();
        c.update(bytes, 0, length);
        return (int) c.getValue();
    }

    /** Where a key's probing starts in a table of {@code slots} (a power of two). */
    static int slot(long key, int slots) {
        return (int) (key ^ key >>> 32) & (slots - 1);
    }

    /** The key of a class file: CRC-32 in the high half, CRC-32C in the low half. */
    static long key(byte[] classFile) {
        CRC32 a = new CRC32();
        a.update(classFile, 0, classFile.length);
        CRC32C b = new CRC32C();
        b.update(classFile, 0, classFile.length);
        return a.getValue() << 32 | b.getValue();
    }

    /**
     * The stored outcome of weaving these bytes, loaded from {@code origin}, or null if this agent build
     * has not woven them from there before (or origin is null).
     */
    public Hit find(byte[] classFile, String origin) {
        if (segments.isEmpty() || origin == null) {
            return null;
        }
        long key = key(classFile);
        for (Stored segment : segments) {
            Hit hit;
            try {
                hit = segment.find(key, classFile.length, origin);
            } catch (IOException | RuntimeException e) {
                if (!closed) { // at exit the files are closed under late class loads: they are woven
                    damaged = true;
                    if (!saidUnreadable) {
                        saidUnreadable = true;
                        say(dir, Quote.of(segment.name) + " cannot be read, weaving instead (it is merged away at"
                                + " exit): " + reason(e));
                    }
                }
                continue;
            }
            if (hit != null) {
                synchronized (this) {
                    hits++;
                }
                return hit;
            }
        }
        return null;
    }

    /**
     * Keeps what weaving gave ({@code woven} null: nothing to poll) for the next runs, for classes loaded
     * from {@code origin} (null: not kept).
     */
    public void add(byte[] classFile, String origin, byte[] woven, int polls) {
        if (origin == null) {
            return;
        }
        long key = key(classFile);
        int length = woven == null ? 0 : woven.length;
        synchronized (this) {
            if (closed || failed || spooled + length + 4 * ENTRY > MAX_FILE_BYTES) { // the merge caps the rest
                return;
            }
            try {
                if (spool == null) {
                    spool = newSpool();
                    spoolBuffer = ByteBuffer.allocate(64 * 1024);
                }
                if (length > spoolBuffer.remaining()) {
                    flushSpool();
                }
                if (length > spoolBuffer.capacity()) {
                    write(spool, ByteBuffer.wrap(woven));
                } else if (length > 0) {
                    spoolBuffer.put(woven);
                }
            } catch (IOException | RuntimeException e) {
                fail("new classes not kept: " + reason(e));
                return;
            }
            added.add(new Entry(key, classFile.length, polls, spooled, length, crc(woven), origin));
            spooled += length;
        }
    }

    /** A fresh file in the directory, unlinked at once where the file system allows (so a killed JVM leaves none). */
    private FileChannel newSpool() throws IOException {
        Files.createDirectories(dir);
        Path path = dir.resolve("spool-" + Long.toHexString(System.currentTimeMillis()) + "-" + uniqueSuffix());
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
        try {
            Files.delete(path);
        } catch (IOException e) {
            path.toFile().deleteOnExit();
        }
        return channel;
    }

    private void flushSpool() throws IOException {
        spoolBuffer.flip();
        write(spool, spoolBuffer);
        spoolBuffer.clear();
    }

    /** Classes copied from the cache so far. */
    public synchronized long hits() {
        return hits;
    }

    /** Classes this run added so far (written when the JVM exits). */
    public synchronized int added() {
        return added.size();
    }

    /**
     * Writes what this run added as a new segment; or, once there are {@link #MAX_SEGMENTS}, one was
     * damaged, or they would pass {@link #MAX_FILE_BYTES}, merges every segment in the directory now
     * (other JVMs may have added some) with it into one and deletes the merged ones. Then stops
     * keeping entries. Called once, at exit.
     */
    public synchronized void persist() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (!added.isEmpty() && !failed) {
                flushSpool();
                if (damaged || segments.size() + 1 >= MAX_SEGMENTS || storedBytes + spooled > MAX_FILE_BYTES) {
                    merge();
                } else {
                    write(new ArrayList<>());
                }
            }
        } catch (IOException | RuntimeException | OutOfMemoryError e) {
            fail("not written: " + reason(e));
        } finally {
            close(spool);
            for (Stored segment : segments) {
                close(segment.in);
            }
        }
    }

    /**
     * Merges the directory's segments, as they are now, with this run's entries into one, and deletes
     * them: those merged, and those of ours that cannot be read (damaged: useless to every run).
     */
    private void merge() throws IOException {
        List<Stored> now = new ArrayList<>();
        List<Path> unreadable = new ArrayList<>();
        try {
            for (Path file : segmentFiles(dir, build)) {
                try {
                    if (untrusted(file) == null) {
                        now.add(Stored.open(file, build));
                    }
                } catch (Damaged e) {
                    unreadable.add(file);
                } catch (IOException | RuntimeException e) {
                    // gone (merged away by another JVM meanwhile), or not readable now: left as it is
                }
            }
            List<Entry> entries = new ArrayList<>();
            for (int i = now.size() - 1; i >= 0; i--) { // newest first: names sort by the time written
                entries.addAll(now.get(i).entries());
            }
            write(entries);
            for (Stored segment : now) {
                close(segment.in);
                Files.deleteIfExists(segment.path);
            }
            for (Path file : unreadable) {
                Files.deleteIfExists(file);
            }
        } finally {
            for (Stored segment : now) {
                close(segment.in);
            }
        }
    }

    /**
     * Writes a new segment: this run's entries, then {@code fileEntries} (read from segment files,
     * newest first) whose bytes still match their CRC, without duplicates, up to {@link #MAX_FILE_BYTES}.
     */
    private void write(List<Entry> fileEntries) throws IOException {
        List<Entry> entries = new ArrayList<>(added); // this run's first: kept under the cap
        byte[] buffer = new byte[0];
        for (Entry e : fileEntries) { // a damaged entry is dropped: this run wove its class again
            if (buffer.length < e.length) {
                buffer = new byte[Math.max(e.length, 2 * buffer.length)];
            }
            e.source.read(e.offset, buffer, e.length);
            if (crc(buffer, e.length) == e.crc) {
                entries.add(e);
            }
        }
        Entry[] byKey = entries.toArray(new Entry[0]);
        Arrays.sort(byKey); // stable: of equal entries the first in the list is the one kept
        for (int i = 1; i < byKey.length; i++) {
            byKey[i].duplicate = byKey[i].compareTo(byKey[i - 1]) == 0; // woven twice: two loaders, or JVMs
        }
        List<Entry> kept = new ArrayList<>(entries.size());
        long size = HEADER;
        for (Entry e : entries) { // an entry takes up to four slots, and the table at most MAX_SLOTS
            if (!e.duplicate && kept.size() < MAX_SLOTS / 2 && size + 4 * ENTRY + e.length <= MAX_FILE_BYTES) {
                kept.add(e);
                size += 4 * ENTRY + e.length;
            }
        }
        int slots = Integer.highestOneBit(Math.max(1, kept.size()) * 2 - 1) * 2; // at most half full
        Map<String, Integer> originNumbers = new LinkedHashMap<>();
        ByteBuffer origins = ByteBuffer.allocate(1024);
        for (Entry e : kept) {
            if (!originNumbers.containsKey(e.origin)) {
                byte[] utf8 = e.origin.getBytes(StandardCharsets.UTF_8);
                if (origins.remaining() < 4 + utf8.length) {
                    origins = ByteBuffer.allocate(2 * (origins.capacity() + utf8.length)).put(origins.flip());
                }
                origins.putInt(utf8.length).put(utf8);
                originNumbers.put(e.origin, originNumbers.size());
            }
        }
        origins.flip();
        long offset = HEADER + (long) slots * ENTRY + origins.remaining();
        for (Entry e : kept) { // data in the order this run wove it, then as the files held it
            e.newOffset = offset;
            offset += e.length;
        }
        // Unique per process and call (a clock read twice can give the same value): the start time first,
        // so that names sort by age.
        String id = Long.toHexString(System.currentTimeMillis()) + "-" + uniqueSuffix();
        Path file = dir.resolve(prefix(build) + id + ".bin");
        Path tmp = dir.resolve(prefix(build) + id + ".tmp");
        // Created here or not at all: a name already there belongs to someone else and is left alone.
        FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS);
        try (out) {
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: the directory's own protection applies
            }
            ByteBuffer head = ByteBuffer.allocate(HEADER + slots * ENTRY);
            head.putInt(MAGIC).putInt(FORMAT).putLong(build).putInt(slots).putInt(origins.remaining());
            for (Entry e : kept) {
                int at = HEADER + slot(e.key, slots) * ENTRY;
                while (head.getInt(at + 8) != 0) { // linear probing
                    at = at + ENTRY == HEADER + slots * ENTRY ? HEADER : at + ENTRY;
                }
                head.putLong(at, e.key).putInt(at + 8, e.originalLength).putInt(at + 12, e.polls)
                        .putInt(at + 16, (int) e.newOffset).putInt(at + 20, e.length).putInt(at + 24, e.crc)
                        .putInt(at + 28, originNumbers.get(e.origin));
            }
            head.position(0);
            write(out, head);
            write(out, origins);
            for (Entry e : kept) {
                if (e.length == 0) {
                    continue;
                }
                ByteBuffer data = ByteBuffer.allocate(e.length);
                if (e.source != null) {
                    e.source.read(e.offset, data.array(), e.length);
                    if (crc(data.array(), e.length) != e.crc) {
                        throw new IOException("changed while it was copied");
                    }
                } else {
                    while (data.hasRemaining()) {
                        if (spool.read(data, e.offset + data.position()) < 0) {
                            throw new IOException("the spool file ended early");
                        }
                    }
                    data.flip();
                }
                write(out, data);
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    private static final AtomicLong NAMES = new AtomicLong();

    /** The process id and a number this process never gives twice. */
    private static String uniqueSuffix() {
        return ProcessHandle.current().pid() + "-" + NAMES.incrementAndGet();
    }

    private static void write(FileChannel out, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            out.write(b);
        }
    }

    private static void close(java.io.Closeable c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                // nothing left to do with it
            }
        }
    }

    private synchronized void fail(String why) {
        if (!failed) {
            failed = true;
            say(dir, why);
        }
    }

    private static void say(Path dir, String what) {
        System.err.println("[usethread-agent] cache=" + Quote.of(dir.toString()) + ": " + what);
    }

    private static String reason(Throwable e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException && ((FileSystemException) e).getReason() != null) {
            return Quote.of(((FileSystemException) e).getReason());
        }
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + Quote.of(m));
    }

    /** One entry, ordered by key, original length and origin; {@code offset} is in its file or in the spool. */
    static final class Entry implements Comparable<Entry> {
        final long key;
        final int originalLength;
        final int polls;
        final long offset;
        final int length;
        final int crc;
        final String origin;
        Stored source; // the file it was read from, or null: this run's spool
        boolean duplicate;
        long newOffset;

        Entry(long key, int originalLength, int polls, long offset, int length, int crc, String origin) {
            this.key = key;
            this.originalLength = originalLength;
            this.polls = polls;
            this.offset = offset;
            this.length = length;
            this.crc = crc;
            this.origin = origin;
        }

        @Override
        public int compareTo(Entry o) {
            int c = Long.compare(key, o.key);
            c = c != 0 ? c : Integer.compare(originalLength, o.originalLength);
            return c != 0 ? c : origin.compareTo(o.origin);
        }
    }

    /**
     * A cache file as read: its index in memory, its data read on demand through a window. An entry is
     * checked when it is used; a damaged one is an error, and the caller weaves instead.
     */
    static final class Stored {
        final Path path;
        final String name;
        final RandomAccessFile in;
        final long size;
        final int slots;
        private final byte[] index;
        private final String[] origins;
        private final long dataStart;
        private byte[] window; // guarded by this
        private long windowStart;
        private int windowLength;

        private Stored(Path path, RandomAccessFile in, long size, int slots, byte[] index, String[] origins,
                long dataStart) {
            this.path = path;
            this.name = path.getFileName().toString();
            this.in = in;
            this.size = size;
            this.slots = slots;
            this.index = index;
            this.origins = origins;
            this.dataStart = dataStart;
        }

        static Stored open(Path file, long build) throws IOException {
            RandomAccessFile in = new RandomAccessFile(file.toFile(), "r");
            try {
                long size = in.length();
                if (size < HEADER || size > MAX_FILE_BYTES) {
                    throw new Damaged("not a cache file (" + size + " bytes)");
                }
                byte[] head = new byte[HEADER];
                in.readFully(head);
                ByteBuffer h = ByteBuffer.wrap(head);
                if (h.getInt(0) != MAGIC || h.getInt(4) != FORMAT || h.getLong(8) != build) {
                    throw new Damaged("not a cache file of this agent build");
                }
                int slots = h.getInt(16);
                int originBytes = h.getInt(20);
                long dataStart = HEADER + (long) slots * ENTRY + originBytes;
                if (slots <= 0 || slots > MAX_SLOTS || Integer.bitCount(slots) != 1 || originBytes < 0
                        || originBytes > MAX_ORIGIN_BYTES || dataStart > size) {
                    throw new Damaged("damaged (" + slots + " index slots and " + originBytes + " bytes of origins in "
                            + size + " bytes)");
                }
                byte[] index = new byte[slots * ENTRY];
                in.readFully(index);
                byte[] table = new byte[originBytes];
                in.readFully(table);
                return new Stored(file, in, size, slots, index, origins(table), dataStart);
            } catch (IOException | RuntimeException e) {
                in.close();
                throw e;
            }
        }

        /** The origin table: {@code (length, UTF-8 bytes)} after one another. */
        private static String[] origins(byte[] table) throws Damaged {
            List<String> out = new ArrayList<>();
            int at = 0;
            while (at < table.length) {
                int length = at + 4 <= table.length ? intAt(table, at) : -1;
                if (length < 0 || length > table.length - at - 4) {
                    throw new Damaged("damaged (the origin table)");
                }
                out.add(new String(table, at + 4, length, StandardCharsets.UTF_8));
                at += 4 + length;
            }
            return out.toArray(new String[0]);
        }

        /** Probes the index from the key's slot to the first empty one (at most every slot). */
        Hit find(long key, int originalLength, String origin) throws IOException {
            int i = slot(key, slots);
            for (int probes = 0; probes < slots; probes++) {
                int at = i * ENTRY;
                int length = intAt(index, at + 8);
                if (length == 0) {
                    return null;
                }
                if (length == originalLength && longAt(index, at) == key && origin.equals(originOf(i))) {
                    Entry e = entry(i);
                    if (e.length == 0) {
                        return NOTHING_TO_POLL;
                    }
                    byte[] woven = new byte[e.length];
                    read(e.offset, woven, woven.length);
                    if (crc(woven) != e.crc) {
                        throw new Damaged("damaged (the woven bytes of entry " + i + ")");
                    }
                    return new Hit(woven, e.polls);
                }
                i = (i + 1) & (slots - 1);
            }
            return null;
        }

        /** The origin of entry {@code i}, or null if its number is out of the table. */
        private String originOf(int i) {
            int n = intAt(index, i * ENTRY + 28);
            return n >= 0 && n < origins.length ? origins[n] : null;
        }

        /** Entry {@code i}, checked against the file's bounds. */
        Entry entry(int i) throws IOException {
            int at = i * ENTRY;
            String origin = originOf(i);
            if (origin == null) {
                throw new Damaged("damaged (the origin of entry " + i + ")");
            }
            Entry e = new Entry(longAt(index, at), intAt(index, at + 8), intAt(index, at + 12),
                    intAt(index, at + 16) & 0xFFFFFFFFL, intAt(index, at + 20), intAt(index, at + 24), origin);
            if (e.originalLength <= 0 || e.polls < 0 || e.length < 0 || (e.length == 0) != (e.polls == 0)
                    || e.offset < dataStart || e.offset + e.length > size) {
                throw new Damaged("damaged (entry " + i + ")");
            }
            e.source = this;
            return e;
        }

        // Plain shifts, not a ByteBuffer: start-up runs this interpreted, where each buffer access is
        // a chain of calls (the index look-ups cost 20 ms for 3,000 classes that way).
        private static int intAt(byte[] b, int at) {
            return (b[at] & 0xFF) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
        }

        private static long longAt(byte[] b, int at) {
            return (long) intAt(b, at) << 32 | (intAt(b, at + 4) & 0xFFFFFFFFL);
        }

        /** Every entry that is within the file's bounds, in the order of their data in the file. */
        List<Entry> entries() {
            List<Entry> all = new ArrayList<>();
            for (int i = 0; i < slots; i++) {
                if (intAt(index, i * ENTRY + 8) != 0) {
                    try {
                        all.add(entry(i));
                    } catch (IOException damaged) {
                        // dropped: the file is written anew without it
                    }
                }
            }
            all.sort(new ByOffset());
            return all;
        }

        /** Reads {@code length} bytes at {@code offset} into the start of {@code into}. */
        synchronized void read(long offset, byte[] into, int length) throws IOException {
            if (length > WINDOW) {
                in.seek(offset);
                in.readFully(into, 0, length);
                return;
            }
            if (window == null || offset < windowStart || offset + length > windowStart + windowLength) {
                if (window == null) {
                    window = new byte[WINDOW];
                }
                windowStart = offset;
                windowLength = (int) Math.min(WINDOW, size - offset);
                in.seek(offset);
                in.readFully(window, 0, windowLength);
            }
            System.arraycopy(window, (int) (offset - windowStart), into, 0, length);
        }
    }

    /** What a file that is not a whole cache segment of this build gives. */
    static final class Damaged extends IOException {
        Damaged(String message) {
            super(message);
        }
    }

    /** Orders entries by where their data lies. */
    private static final class ByOffset implements java.util.Comparator<Entry> {
        @Override
        public int compare(Entry a, Entry b) {
            return Long.compare(a.offset, b.offset);
        }
    }
}
