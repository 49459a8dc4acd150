package dev.usethread.agent;

import dev.usethread.agent.config.Quote;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes woven class files for {@code dump=}, only inside its directory: a class name is whatever a class
 * loader says it is (an empty part makes {@code /tmp/x/Pwned} absolute, {@code ..} climbs out), and a link
 * inside the directory may point anywhere. The first failure is said on standard error, later ones only
 * counted.
 */
final class ClassDump {
    private final String shownDir;
    private final Path root; // the directory's real path, or null if it could not be created
    final AtomicLong failures = new AtomicLong();

    ClassDump(Path dir) {
        this.shownDir = Quote.of(dir.toString());
        Path real = null;
        try {
            Files.createDirectories(dir);
            real = dir.toRealPath();
        } catch (IOException | RuntimeException e) {
            fail(null, "cannot create the directory: " + reason(e));
        }
        this.root = real;
    }

    /** Writes {@code <dir>/<internalName>.class}, or says why not (once). */
    void write(String internalName, byte[] bytes) {
        Path dir = root;
        if (dir == null) {
            failures.incrementAndGet();
            return;
        }
        String[] parts = internalName.split("/", -1);
        for (String part : parts) {
            if (part.isEmpty() || part.equals(".") || part.equals("..") || part.indexOf('\0') >= 0
                    || part.indexOf('\\') >= 0) {
                fail(internalName, "the name would leave the directory");
                return;
            }
        }
        try {
            for (int i = 0; i < parts.length - 1; i++) {
                dir = subdirectory(dir, parts[i]);
            }
            if (!dir.toRealPath().startsWith(root)) {
                fail(internalName, "a link leads out of the directory");
                return;
            }
            // A fresh file (never through a link), then renamed over the old dump: a rename replaces a
            // link itself, it does not write where the link points.
            Path tmp = dir.resolve(parts[parts.length - 1] + ".class." + Long.toHexString(System.nanoTime()) + ".tmp");
            try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                out.write(bytes);
            }
            Files.move(tmp, dir.resolve(parts[parts.length - 1] + ".class"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            fail(internalName, reason(e));
        }
    }

    /** The existing directory {@code name} in {@code dir} (not a link to one), created if missing. */
    private static Path subdirectory(Path dir, String name) throws IOException {
        Path sub = dir.resolve(name);
        try {
            Files.createDirectory(sub);
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(sub, LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException(name + " is a link or a file, not a directory");
            }
        }
        return sub;
    }

    private void fail(String internalName, String why) {
        if (failures.getAndIncrement() == 0) {
            System.err.println("[usethread-agent] dump=" + shownDir + ": "
                    + (internalName == null ? "" : "not written: " + Quote.of(internalName.replace('/', '.')) + ": ")
                    + why + " (further dump failures are only counted in the verbose summary)");
        }
    }

    private static String reason(Exception e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + Quote.of(m));
    }
}
