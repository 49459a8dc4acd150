package dev.usethread.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClassDumpTest {
    private static final byte[] BYTES = {(byte) 0xca, (byte) 0xfe};

    @Test
    void writesUnderTheDirectoryByPackage(@TempDir Path tmp) throws Exception {
        ClassDump dump = new ClassDump(tmp.resolve("d"));
        dump.write("com/acme/Foo$1", BYTES);
        dump.write("com/acme/Foo$1", BYTES); // a retransformed class replaces its old dump
        assertThat(tmp.resolve("d/com/acme/Foo$1.class")).hasBinaryContent(BYTES);
        assertThat(dump.failures.get()).isZero();
        try (Stream<Path> files = Files.list(tmp.resolve("d/com/acme"))) {
            assertThat(files).hasSize(1); // no temporary file left
        }
    }

    @Test
    void namesThatWouldLeaveTheDirectoryAreRefusedAndSaidOnce(@TempDir Path tmp) throws Exception {
        Path outside = tmp.resolve("outside");
        String err = StandardError.capture(() -> {
            ClassDump dump = new ClassDump(tmp.resolve("d"));
            // defineClass(".tmp.x.Pwned") gives "/tmp/x/Pwned"; dots and empty parts climb out.
            dump.write(outside + "/Pwned", BYTES);
            dump.write("a/../../outside/Pwned", BYTES);
            dump.write("../outside/Pwned", BYTES);
            dump.write("a//b", BYTES);
            dump.write("./a", BYTES);
            assertThat(dump.failures.get()).isEqualTo(5);
        });
        assertThat(outside).doesNotExist();
        assertThat(err.lines()).hasSize(1);
        assertThat(err).contains("[usethread-agent] dump=").contains("the name would leave the directory")
                .contains("further dump failures are only counted");
    }

    @Test
    void linksInsideTheDirectoryAreNotFollowed(@TempDir Path tmp) throws Exception {
        Path d = Files.createDirectories(tmp.resolve("d"));
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.createSymbolicLink(d.resolve("com"), outside);
        Files.createDirectories(d.resolve("org"));
        Path victim = Files.writeString(tmp.resolve("victim"), "keep");
        Files.createSymbolicLink(d.resolve("org/Foo.class"), victim);
        String err = StandardError.capture(() -> {
            ClassDump dump = new ClassDump(d);
            dump.write("com/acme/Foo", BYTES);
            dump.write("org/Foo", BYTES);
            assertThat(dump.failures.get()).isEqualTo(1);
        });
        try (Stream<Path> files = Files.list(outside)) {
            assertThat(files).isEmpty();
        }
        assertThat(err).contains("com is a link or a file, not a directory");
        // The link named like the dump is replaced by the dump; what it pointed to is untouched.
        assertThat(victim).hasContent("keep");
        assertThat(Files.isSymbolicLink(d.resolve("org/Foo.class"))).isFalse();
        assertThat(d.resolve("org/Foo.class")).hasBinaryContent(BYTES);
    }

    @Test
    void aDirectoryThatCannotBeCreatedIsSaidOnce(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("file"), "x");
        String err = StandardError.capture(() -> {
            ClassDump dump = new ClassDump(file.resolve("d"));
            dump.write("a/B", BYTES);
            dump.write("a/C", BYTES);
            assertThat(dump.failures.get()).isEqualTo(3);
        });
        assertThat(err.lines()).hasSize(1);
        assertThat(err).contains("cannot create the directory");
    }
}
