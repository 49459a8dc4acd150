package dev.usethread.agent.weave;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Adds HotSpot's {@code @jdk.internal.vm.annotation.ForceInline} to one method of a class file. The
 * agent applies it to {@code Poll.poll()} as the boot loader defines it (the JVM honours the
 * annotation only there): C2 then inlines every woven poll whatever the caller's inlining budget.
 * Without it, big woven methods (an interpreter's dispatch loop with a poll per {@code continue})
 * spend that budget on polls; the polls that no longer fit become real calls, and the helpers that
 * no longer fit are not inlined (Rhino's interpreter ran 15 % slower). The annotation is written
 * into the class file, not compiled in: {@code jdk.internal.vm.annotation} is not exported.
 */
public final class ForceInlineMarker {
    static final String ANNOTATIONS = "RuntimeVisibleAnnotations";
    static final String FORCE_INLINE = "Ljdk/internal/vm/annotation/ForceInline;";

    private ForceInlineMarker() {
    }

    /**
     * The class file with the annotation on every method named {@code method}, or null if the class
     * file is not as expected (then it is used unchanged: the annotation only changes speed).
     */
    public static byte[] mark(byte[] in, String method) {
        try {
            return new Editor(in).mark(method);
        } catch (RuntimeException malformed) {
            return null;
        }
    }

    private static final class Editor {
        private final byte[] in;
        private int[] cpOffset;

        Editor(byte[] in) {
            this.in = in;
        }

        private int u1(int p) {
            return in[p] & 0xFF;
        }

        private int u2(int p) {
            return (u1(p) << 8) | u1(p + 1);
        }

        private int s4(int p) {
            return (u2(p) << 16) | u2(p + 2);
        }

        private boolean utf8Is(int index, String expected) {
            int p = cpOffset[index];
            return u1(p) == 1 && new String(in, p + 3, u2(p + 1), StandardCharsets.UTF_8).equals(expected);
        }

        byte[] mark(String method) {
            if (s4(0) != 0xCAFEBABE) {
                return null;
            }
            int cpCount = u2(8);
            cpOffset = new int[cpCount];
            int p = 10;
            for (int i = 1; i < cpCount; i++) {
                cpOffset[i] = p;
                switch (u1(p)) {
                    case 1: p += 3 + u2(p + 1); break;
                    case 3: case 4: case 9: case 10: case 11: case 12: case 17: case 18: p += 5; break;
                    case 5: case 6: p += 9; i++; break;
                    case 7: case 8: case 16: case 19: case 20: p += 3; break;
                    case 15: p += 4; break;
                    default: return null;
                }
            }
            int cpEnd = p;
            p += 6;
            p += 2 + 2 * u2(p); // interfaces
            int fields = u2(p);
            p += 2;
            for (int i = 0; i < fields; i++) {
                p = skipMember(p);
            }
            if (cpCount + 2 > 0xFFFF) {
                return null;
            }
            int annotationsName = cpCount;
            int forceInlineType = cpCount + 1;
            Out out = new Out(in.length + 128);
            out.bytes(in, 0, 8);
            out.u2(cpCount + 2);
            out.bytes(in, 10, cpEnd - 10);
            out.utf8(ANNOTATIONS);
            out.utf8(FORCE_INLINE);
            out.bytes(in, cpEnd, p - cpEnd);
            int methods = u2(p);
            out.u2(methods);
            p += 2;
            int marked = 0;
            for (int i = 0; i < methods; i++) {
                int end = skipMember(p);
                if (!utf8Is(u2(p + 2), method)) {
                    out.bytes(in, p, end - p);
                } else {
                    int attrs = u2(p + 6);
                    for (int a = 0, q = p + 8; a < attrs; a++, q += 6 + s4(q + 2)) {
                        if (utf8Is(u2(q), ANNOTATIONS)) {
                            return null; // would need merging; Poll's methods carry no annotations
                        }
                    }
                    out.bytes(in, p, 6);
                    out.u2(attrs + 1);
                    out.bytes(in, p + 8, end - p - 8);
                    out.u2(annotationsName);
                    out.u4(6);
                    out.u2(1); // one annotation
                    out.u2(forceInlineType);
                    out.u2(0); // no element values
                    marked++;
                }
                p = end;
            }
            out.bytes(in, p, in.length - p);
            return marked == 0 ? null : out.toArray();
        }

        private int skipMember(int p) {
            int attrs = u2(p + 6);
            p += 8;
            for (int a = 0; a < attrs; a++) {
                p += 6 + s4(p + 2);
            }
            return p;
        }
    }

    /** A growable byte buffer. */
    private static final class Out {
        private byte[] buf;
        private int size;

        Out(int capacity) {
            buf = new byte[capacity];
        }

        void u1(int v) {
            if (size == buf.length) {
                buf = Arrays.copyOf(buf, size * 2);
            }
            buf[size++] = (byte) v;
        }

        void u2(int v) {
            u1(v >>> 8);
            u1(v);
        }

        void u4(int v) {
            u2(v >>> 16);
            u2(v);
        }

        void bytes(byte[] b, int off, int len) {
            if (size + len > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + len));
            }
            System.arraycopy(b, off, buf, size, len);
            size += len;
        }

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
}
