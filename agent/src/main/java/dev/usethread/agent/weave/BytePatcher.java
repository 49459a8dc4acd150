package dev.usethread.agent.weave;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Weaves the same polls as {@link PollMethodWeaver}, by patching the class file bytes in place of
 * ASM's read-and-rewrite round trip: the constant pool is only measured (one {@code Methodref} for
 * the poll is appended at its end), each woven method's code gets the 3-byte calls inserted, and
 * branch offsets, switch padding, the exception table, StackMapTable, LineNumberTable and local
 * variable tables are shifted accordingly. Anything unusual (old class files, {@code jsr}, type
 * annotations or unknown attributes inside code, offsets that no longer fit) returns null, and the
 * caller uses the ASM weaver instead.
 */
final class BytePatcher {
    private static final int POLL_BYTES = 3;
    private static final int NEWEST_VERSION = org.objectweb.asm.Opcodes.V25 & 0xFFFF;

    /** The woven class and its poll count; {@code bytes == null} when there was nothing to weave. */
    static final class Result {
        final byte[] bytes;
        final int polls;

        Result(byte[] bytes, int polls) {
            this.bytes = bytes;
            this.polls = polls;
        }
    }

    private final byte[] in;
    private int[] cpOffset;
    private int cpCount;
    private int pollRef;
    private int polls;
    private Out out;

    private BytePatcher(byte[] in) {
        this.in = in;
    }

    /** Returns the woven class, or null if the ASM weaver must handle this class. */
    static Result weave(byte[] classFile) {
        try {
            return new BytePatcher(classFile).run();
        } catch (RuntimeException e) {
            return null;
        }
    }

    private int u1(int p) {
        return in[p] & 0xFF;
    }

    private int u2(int p) {
        return ((in[p] & 0xFF) << 8) | (in[p + 1] & 0xFF);
    }

    private int s2(int p) {
        return (short) u2(p);
    }

    private int s4(int p) {
        return (u2(p) << 16) | u2(p + 2);
    }

    private String utf8(int index) {
        int p = cpOffset[index];
        if (u1(p) != 1) {
            throw new IllegalStateException("not Utf8");
        }
        // Modified UTF-8 only differs for NUL and supplementary characters, which the names
        // compared here do not contain.
        return new String(in, p + 3, u2(p + 1), StandardCharsets.UTF_8);
    }

    private Result run() {
        // Versions 50 (StackMapTable) up to the newest this project has verified; others go to ASM,
        // which refuses versions it does not know.
        if (s4(0) != 0xCAFEBABE || u2(6) < 50 || u2(6) > NEWEST_VERSION) {
            return null;
        }
        cpCount = u2(8);
        cpOffset = new int[cpCount];
        int p = 10;
        for (int i = 1; i < cpCount; i++) {
            cpOffset[i] = p;
            int tag = u1(p);
            switch (tag) {
                case 1: p += 3 + u2(p + 1); break;
                case 3: case 4: case 9: case 10: case 11: case 12: case 17: case 18: p += 5; break;
                case 5: case 6: p += 9; i++; break;
                case 7: case 8: case 16: case 19: case 20: p += 3; break;
                case 15: p += 4; break;
                default: return null;
            }
        }
        int cpEnd = p;
        int access = u2(p);
        if ((access & 0x8000) != 0) { // module-info
            return null;
        }
        p += 6;
        p += 2 + 2 * u2(p); // interfaces
        int fields = u2(p);
        p += 2;
        for (int i = 0; i < fields; i++) {
            p = skipMember(p);
        }
        int methodsStart = p;
        if (cpCount + 6 > 0xFFFF) {
            return null;
        }
        pollRef = cpCount + 5;
        out = new Out(in.length + in.length / 8 + 64);
        out.bytes(in, 0, 8);
        out.u2(cpCount + 6);
        out.bytes(in, 10, cpEnd - 10);
        out.utf8("dev/usethread/internal/Poll"); // cpCount
        out.u1(7);                                // cpCount + 1: Class
        out.u2(cpCount);
        out.utf8(PollMethodWeaver.POLL_NAME);     // cpCount + 2
        out.utf8(PollMethodWeaver.POLL_DESC);     // cpCount + 3
        out.u1(12);                               // cpCount + 4: NameAndType
        out.u2(cpCount + 2);
        out.u2(cpCount + 3);
        out.u1(10);                               // cpCount + 5: Methodref
        out.u2(cpCount + 1);
        out.u2(cpCount + 4);
        out.bytes(in, cpEnd, methodsStart - cpEnd);
        p = methodsStart;
        int methods = u2(p);
        out.u2(methods);
        p += 2;
        for (int i = 0; i < methods; i++) {
            int macc = u2(p);
            String mname = utf8(u2(p + 2));
            boolean weavable = PollClassWeaver.weavable(macc, mname);
            out.bytes(in, p, 6);
            int attrs = u2(p + 6);
            out.u2(attrs);
            p += 8;
            for (int a = 0; a < attrs; a++) {
                int len = s4(p + 2);
                if (weavable && "Code".equals(utf8(u2(p)))) {
                    if (!code(p)) {
                        return null;
                    }
                } else {
                    out.bytes(in, p, 6 + len);
                }
                p += 6 + len;
            }
        }
        out.bytes(in, p, in.length - p);
        if (polls == 0) {
            return new Result(null, 0);
        }
        return new Result(out.toArray(), polls);
    }

    private int skipMember(int p) {
        int attrs = u2(p + 6);
        p += 8;
        for (int a = 0; a < attrs; a++) {
            p += 6 + s4(p + 2);
        }
        return p;
    }

    /** Length of the instruction at {@code p} (code starting at {@code base}), or -1 if not handled. */
    private int insnLength(int base, int p) {
        int op = u1(p);
        if (op <= 0x0F || (op >= 0x1A && op <= 0x35) || (op >= 0x3B && op <= 0x83)
                || (op >= 0x85 && op <= 0x98) || (op >= 0xAC && op <= 0xB1) || op == 0xBE || op == 0xBF
                || op == 0xC2 || op == 0xC3) {
            return 1;
        }
        if (op == 0x10 || op == 0x12 || (op >= 0x15 && op <= 0x19) || (op >= 0x36 && op <= 0x3A) || op == 0xBC) {
            return 2;
        }
        if (op == 0x11 || op == 0x13 || op == 0x14 || op == 0x84 || (op >= 0x99 && op <= 0xA7)
                || (op >= 0xB2 && op <= 0xB8) || op == 0xBB || op == 0xBD || op == 0xC0 || op == 0xC1
                || op == 0xC6 || op == 0xC7) {
            return 3;
        }
        if (op == 0xC5) {
            return 4;
        }
        if (op == 0xB9 || op == 0xBA || op == 0xC8) {
            return 5;
        }
        if (op == 0xC4) {
            return u1(p + 1) == 0x84 ? 6 : 4;
        }
        if (op == 0xAA || op == 0xAB) {
            int q = p + 1 + ((4 - ((p + 1 - base) & 3)) & 3);
            if (op == 0xAA) {
                int n = s4(q + 8) - s4(q + 4) + 1;
                return q + 12 + 4 * n - p;
            }
            return q + 8 + 8 * s4(q + 4) - p;
        }
        return -1; // jsr, ret, jsr_w, reserved
    }

    /** Writes the patched Code attribute starting at {@code attr}; false if ASM must do it. */
    private boolean code(int attr) {
        int codeLength = s4(attr + 10);
        int base = attr + 14;
        int end = base + codeLength;
        int excCount = u2(end);
        int exc = end + 2;
        // Decode instructions; mark where polls go.
        boolean[] poll = new boolean[codeLength + 1];
        boolean[] start = new boolean[codeLength + 1];
        for (int p = base; p < end; ) {
            int len = insnLength(base, p);
            if (len <= 0) {
                return false;
            }
            int pos = p - base;
            start[pos] = true;
            int op = u1(p);
            boolean back = false;
            if ((op >= 0x99 && op <= 0xA7) || op == 0xC6 || op == 0xC7) {
                back = s2(p + 1) <= 0;
            } else if (op == 0xC8) {
                back = s4(p + 1) <= 0;
            } else if (op == 0xAA || op == 0xAB) {
                int q = p + 1 + ((4 - ((p + 1 - base) & 3)) & 3);
                back = s4(q) <= 0;
                if (op == 0xAA) {
                    int n = s4(q + 8) - s4(q + 4) + 1;
                    for (int k = 0; k < n && !back; k++) {
                        back = s4(q + 12 + 4 * k) <= 0;
                    }
                } else {
                    int n = s4(q + 4);
                    for (int k = 0; k < n && !back; k++) {
                        back = s4(q + 12 + 8 * k) <= 0;
                    }
                }
            }
            if (back && !selfCovered(exc, excCount, pos)) {
                poll[pos] = true;
            }
            p += len;
        }
        start[codeLength] = true;
        // New offset of every old offset: the entry poll shifts everything (labels at 0 follow it);
        // a poll inserted at an instruction stays after that instruction's labels and frame. A
        // moved switch gets new padding, so offsets are computed in one forward pass.
        int[] shift = new int[codeLength + 1];
        int now = POLL_BYTES;
        int count = 1;
        for (int p = base; p < end; ) {
            int pos = p - base;
            int len = insnLength(base, p);
            shift[pos] = now;
            if (poll[pos]) {
                now += POLL_BYTES;
                count++;
            }
            int op = u1(p);
            if (op == 0xAA || op == 0xAB) {
                int oldPad = (4 - ((pos + 1) & 3)) & 3;
                int newPad = (4 - ((now + 1) & 3)) & 3;
                len += newPad - oldPad;
            }
            now += len;
            p += insnLength(base, p);
        }
        shift[codeLength] = now;
        int newLength = now;
        if (newLength > 0xFFFF) {
            return false;
        }
        // Attribute header is written once the length is known.
        Out saved = out;
        out = new Out(codeLength + 3 * count + 256);
        out.bytes(in, attr + 6, 4); // max_stack, max_locals
        out.u4(newLength);
        int codeStart = out.size;
        pollCall();
        for (int p = base; p < end; ) {
            int pos = p - base;
            int len = insnLength(base, p);
            if (poll[pos]) {
                pollCall();
            }
            now = out.size - codeStart;
            if (now != shift[pos] + (poll[pos] ? POLL_BYTES : 0)) {
                throw new IllegalStateException("offset");
            }
            int op = u1(p);
            if ((op >= 0x99 && op <= 0xA7) || op == 0xC6 || op == 0xC7) {
                int d = shift[pos + s2(p + 1)] - now;
                if (d != (short) d) {
                    return false;
                }
                out.u1(op);
                out.u2(d);
            } else if (op == 0xC8) {
                out.u1(op);
                out.u4(shift[pos + s4(p + 1)] - now);
            } else if (op == 0xAA || op == 0xAB) {
                int q = p + 1 + ((4 - ((p + 1 - base) & 3)) & 3);
                out.u1(op);
                while (((out.size - codeStart) & 3) != 0) {
                    out.u1(0);
                }
                out.u4(shift[pos + s4(q)] - now);
                if (op == 0xAA) {
                    int lo = s4(q + 4);
                    int hi = s4(q + 8);
                    out.u4(lo);
                    out.u4(hi);
                    for (int k = 0; k < hi - lo + 1; k++) {
                        out.u4(shift[pos + s4(q + 12 + 4 * k)] - now);
                    }
                } else {
                    int n = s4(q + 4);
                    out.u4(n);
                    for (int k = 0; k < n; k++) {
                        out.u4(s4(q + 8 + 8 * k));
                        out.u4(shift[pos + s4(q + 12 + 8 * k)] - now);
                    }
                }
            } else {
                out.bytes(in, p, len);
            }
            p += len;
        }
        if (out.size - codeStart != newLength) {
            throw new IllegalStateException("length");
        }
        out.u2(excCount);
        for (int i = 0; i < excCount; i++) {
            int e = exc + 8 * i;
            out.u2(at(shift, start, u2(e)));
            out.u2(at(shift, start, u2(e + 2)));
            out.u2(at(shift, start, u2(e + 4)));
            out.u2(u2(e + 6));
        }
        int a = exc + 8 * excCount;
        int attrs = u2(a);
        out.u2(attrs);
        a += 2;
        for (int i = 0; i < attrs; i++) {
            String name = utf8(u2(a));
            int len = s4(a + 2);
            int body = a + 6;
            out.bytes(in, a, 2);
            int lenAt = out.size;
            out.u4(0);
            if ("LineNumberTable".equals(name)) {
                int n = u2(body);
                out.u2(n);
                for (int k = 0; k < n; k++) {
                    out.u2(at(shift, start, u2(body + 2 + 4 * k)));
                    out.u2(u2(body + 4 + 4 * k));
                }
            } else if ("LocalVariableTable".equals(name) || "LocalVariableTypeTable".equals(name)) {
                int n = u2(body);
                out.u2(n);
                for (int k = 0; k < n; k++) {
                    int v = body + 2 + 10 * k;
                    int from = at(shift, start, u2(v));
                    int to = at(shift, start, u2(v) + u2(v + 2));
                    out.u2(from);
                    out.u2(to - from);
                    out.bytes(in, v + 4, 6);
                }
            } else if ("StackMapTable".equals(name)) {
                if (!frames(body, shift, start)) {
                    return false;
                }
            } else {
                return false; // type annotations, unknown attributes: offsets we cannot fix
            }
            out.setU4(lenAt, out.size - lenAt - 4);
            a = body + len;
        }
        byte[] code = out.toArray();
        out = saved;
        out.bytes(in, attr, 2);
        out.u4(code.length);
        out.bytes(code, 0, code.length);
        polls += count;
        return true;
    }

    /** A new offset for an old one that must be an instruction boundary (or the code's end). */
    private static int at(int[] shift, boolean[] start, int old) {
        if (old >= start.length || !start[old]) {
            throw new IllegalStateException("offset " + old + " not an instruction");
        }
        return shift[old];
    }

    /** Whether {@code pos} lies in a range whose handler lies inside that range at or before pos. */
    private boolean selfCovered(int exc, int count, int pos) {
        for (int i = 0; i < count; i++) {
            int e = exc + 8 * i;
            int from = u2(e);
            int to = u2(e + 2);
            int handler = u2(e + 4);
            if (from <= handler && handler < to && handler <= pos && pos < to) {
                return true;
            }
        }
        return false;
    }

    private boolean frames(int body, int[] shift, boolean[] start) {
        int n = u2(body);
        out.u2(n);
        int p = body + 2;
        int old = -1;
        int now = -1;
        for (int k = 0; k < n; k++) {
            int type = u1(p);
            int delta;
            int rest;
            if (type < 64) {
                delta = type;
                rest = p + 1;
            } else if (type < 128) {
                delta = type - 64;
                rest = p + 1;
            } else if (type >= 247) {
                delta = u2(p + 1);
                rest = p + 3;
            } else {
                return false;
            }
            old = old + delta + 1;
            int pos = at(shift, start, old);
            int d = pos - now - 1;
            now = pos;
            if (type < 64 || type == 251) {
                if (d < 64) {
                    out.u1(d);
                } else {
                    out.u1(251);
                    out.u2(d);
                }
                p = rest;
            } else if (type < 128 || type == 247) {
                if (d < 64) {
                    out.u1(64 + d);
                } else {
                    out.u1(247);
                    out.u2(d);
                }
                p = types(rest, 1, shift, start);
            } else if (type < 251) {
                out.u1(type);
                out.u2(d);
                p = rest;
            } else if (type < 255) {
                out.u1(type);
                out.u2(d);
                p = types(rest, type - 251, shift, start);
            } else {
                out.u1(type);
                out.u2(d);
                int locals = u2(rest);
                out.u2(locals);
                int q = types(rest + 2, locals, shift, start);
                int stack = u2(q);
                out.u2(stack);
                p = types(q + 2, stack, shift, start);
            }
        }
        return true;
    }

    /** Copies {@code n} verification types, remapping Uninitialized(offset); returns the end. */
    private int types(int p, int n, int[] shift, boolean[] start) {
        for (int i = 0; i < n; i++) {
            int tag = u1(p);
            out.u1(tag);
            if (tag == 7) {
                out.u2(u2(p + 1));
                p += 3;
            } else if (tag == 8) {
                out.u2(at(shift, start, u2(p + 1)));
                p += 3;
            } else if (tag <= 6) {
                p += 1;
            } else {
                throw new IllegalStateException("verification type " + tag);
            }
        }
        return p;
    }

    private void pollCall() {
        out.u1(0xB8);
        out.u2(pollRef);
    }

    /** A growable byte buffer. */
    private static final class Out {
        byte[] buf;
        int size;

        Out(int capacity) {
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

        void setU4(int at, int v) {
            buf[at] = (byte) (v >>> 24);
            buf[at + 1] = (byte) (v >>> 16);
            buf[at + 2] = (byte) (v >>> 8);
            buf[at + 3] = (byte) v;
        }

        void bytes(byte[] b, int off, int len) {
            room(len);
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
