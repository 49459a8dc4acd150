package dev.usethread.agent.weave;

import jdk.internal.vm.annotation.DontInline;

import java.util.Arrays;

/**
 * A growable big-endian byte buffer for writing class files. {@code bytes} and {@code grow} are
 * {@code @DontInline}, like the patcher's steps (see {@link BytePatcher}): called from everywhere, they
 * were compiled into every caller.
 */
final class ByteOut {
    byte[] buf;
    int size;

    ByteOut(int capacity) {
        buf = new byte[Math.max(16, capacity)];
    }

    private ByteOut(byte[] buf) {
        this.buf = buf;
    }

    /**
     * One buffer kept between classes for {@link #reused}: the patcher's output buffer is about the size of
     * the class, and with a new one per class the kernel zeroing fresh young-heap pages showed as a quarter
     * of the patcher's profile (weaving 3,000 classes cold: 85 ms, 72 ms with the buffer kept). Held only
     * up to this size.
     */
    private static final int SPARE_MAX = 256 * 1024;
    private static byte[] spare;

    /** A buffer of at least {@code capacity}, the kept one if it is free and big enough; give it back with {@link #recycle}. */
    static ByteOut reused(int capacity) {
        byte[] b;
        synchronized (ByteOut.class) { // classes load on many threads: each buffer has one user at a time
            b = spare;
            spare = null;
        }
        return b != null && b.length >= capacity ? new ByteOut(b) : new ByteOut(capacity);
    }

    /** Keeps this buffer for the next {@link #reused} call; this ByteOut must not be used after. */
    void recycle() {
        if (buf.length <= SPARE_MAX) {
            byte[] b = buf;
            buf = null;
            synchronized (ByteOut.class) {
                spare = b;
            }
        }
    }

    /** Makes room for {@code n} more bytes: a caller may then write them into buf from size on. */
    void room(int n) {
        if (size + n > buf.length) {
            grow(n);
        }
    }

    /** Apart from the room checks in room() and every write: the JIT then inlines only the comparison. */
    @DontInline
    private void grow(int n) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + n));
    }

    // The writes check the room themselves instead of calling room(): a call costs while the JIT
    // has not compiled the patcher, which is most of the application's start.

    void u1(int v) {
        if (size + 1 > buf.length) {
            grow(1);
        }
        buf[size++] = (byte) v;
    }

    void u2(int v) {
        if (size + 2 > buf.length) {
            grow(2);
        }
        buf[size] = (byte) (v >>> 8);
        buf[size + 1] = (byte) v;
        size += 2;
    }

    void u4(int v) {
        if (size + 4 > buf.length) {
            grow(4);
        }
        byte[] b = buf;
        int s = size;
        b[s] = (byte) (v >>> 24);
        b[s + 1] = (byte) (v >>> 16);
        b[s + 2] = (byte) (v >>> 8);
        b[s + 3] = (byte) v;
        size = s + 4;
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
    @DontInline
    void bytes(byte[] b, int off, int len) {
        if (off < 0 || len < 0 || len > b.length - off) {
            throw new IndexOutOfBoundsException("copy range past the source");
        }
        if (size + len > buf.length) {
            grow(len);
        }
        System.arraycopy(b, off, buf, size, len);
        size += len;
    }
}
