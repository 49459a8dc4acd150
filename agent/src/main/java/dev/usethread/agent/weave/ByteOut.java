package dev.usethread.agent.weave;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/** A growable big-endian byte buffer for writing class files. */
final class ByteOut {
    byte[] buf;
    int size;

    ByteOut(int capacity) {
        buf = new byte[Math.max(16, capacity)];
    }

    private void room(int n) {
        if (size + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + n));
        }
    }

    void u1(int v) {
        room(1);
        buf[size++] = (byte) v;
    }

    void u2(int v) {
        room(2);
        buf[size++] = (byte) (v >>> 8);
        buf[size++] = (byte) v;
    }

    void u4(int v) {
        room(4);
        buf[size++] = (byte) (v >>> 24);
        buf[size++] = (byte) (v >>> 16);
        buf[size++] = (byte) (v >>> 8);
        buf[size++] = (byte) v;
    }

    void setU2(int at, int v) {
        buf[at] = (byte) (v >>> 8);
        buf[at + 1] = (byte) v;
    }

    void setU4(int at, int v) {
        buf[at] = (byte) (v >>> 24);
        buf[at + 1] = (byte) (v >>> 16);
        buf[at + 2] = (byte) (v >>> 8);
        buf[at + 3] = (byte) v;
    }

    /** Copies {@code len} bytes of {@code b}; the range is checked before the buffer grows for it. */
    void bytes(byte[] b, int off, int len) {
        Objects.checkFromIndexSize(off, len, b.length);
        room(len);
        System.arraycopy(b, off, buf, size, len);
        size += len;
    }

    /** A CONSTANT_Utf8 entry (the names written here need no modified-UTF-8 escapes). */
    void utf8(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u1(1);
        u2(b.length);
        bytes(b, 0, b.length);
    }

    byte[] toArray() {
        return Arrays.copyOf(buf, size);
    }
}
