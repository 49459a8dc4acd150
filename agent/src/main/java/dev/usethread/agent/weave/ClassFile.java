package dev.usethread.agent.weave;

import dev.usethread.internal.PollGroup;

import java.nio.charset.StandardCharsets;

/**
 * Reads a class file in place: big-endian numbers, the constant pool's entry offsets, member
 * boundaries. The base of the byte patcher, which rewrites class files without a class-file library.
 *
 * <p>The input may be anything a class loader was handed. Every count, length and offset read from it
 * is checked against the real input before it is used to allocate, copy or skip, so a malformed class
 * throws {@link Malformed} (or an index exception) instead of costing memory out of proportion to its size.
 */
abstract class ClassFile {
    final byte[] in;
    /** Offset of each constant pool entry (index 0 and the second slot of longs/doubles unused). */
    int[] cpOffset;
    int cpCount;
    /** Offset just after the constant pool: the access flags. */
    int cpEnd;

    /** The input is not a well-formed class file; the message names what is wrong, never its content. */
    static final class Malformed extends RuntimeException {
        Malformed(String what) {
            super(what, null, false, false);
        }
    }

    ClassFile(byte[] in) {
        this.in = in;
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    final int u1(int p) {
        return in[p] & 0xFF;
    }

    final int u2(int p) {
        return ((in[p] & 0xFF) << 8) | (in[p + 1] & 0xFF);
    }

    final int s2(int p) {
        return (short) u2(p);
    }

    final int s4(int p) {
        return (u2(p) << 16) | u2(p + 2);
    }

    /** Checks that {@code length} bytes from {@code p} lie inside the input; returns their end. */
    final int within(int p, long length, String what) {
        if (p < 0 || length < 0 || p + length > in.length) {
            throw new Malformed(what + " runs past the end of the class file");
        }
        return (int) (p + length);
    }

    /** The length of the attribute starting at {@code p}, checked to lie inside the input. */
    final int attributeLength(int p) {
        byte[] b = in; // inline: this runs per attribute, often before the JIT compiled it
        int length = (b[p + 2] & 0xFF) << 24 | (b[p + 3] & 0xFF) << 16 | (b[p + 4] & 0xFF) << 8 | (b[p + 5] & 0xFF);
        if (p + 6 + (length & 0xFFFFFFFFL) > b.length) {
            throw new Malformed("attribute runs past the end of the class file");
        }
        return length;
    }

    /** Checks the magic number and records where each constant lies; false for an unknown tag. */
    final boolean readConstantPool() {
        if (in.length < 10 || s4(0) != 0xCAFEBABE) {
            return false;
        }
        cpCount = u2(8);
        // Each slot takes at least 3 bytes: a count the input cannot hold is refused before the table is allocated.
        if (cpCount == 0 || cpCount - 1 > (in.length - 10) / 3) {
            throw new Malformed("constant pool count " + cpCount + " does not fit the class file");
        }
        cpOffset = new int[cpCount];
        int p = 10;
        byte[] b = in;
        int below = -1; // stays negative while every reference minus cpCount is (inline: this runs per constant)
        int end = b.length;
        for (int i = 1; i < cpCount; i++) {
            cpOffset[i] = p;
            // References past the pool are refused: constants appended to it would make them valid.
            switch (b[p] & 0xFF) {
                case 1: p += 3 + ((b[p + 1] & 0xFF) << 8 | (b[p + 2] & 0xFF)); break;
                case 3: case 4: p += 5; break;
                case 9: case 10: case 11: case 12:
                    below &= ((b[p + 1] & 0xFF) << 8 | (b[p + 2] & 0xFF)) - cpCount;
                    below &= ((b[p + 3] & 0xFF) << 8 | (b[p + 4] & 0xFF)) - cpCount;
                    p += 5;
                    break;
                case 17: case 18: constant(p + 3); p += 5; break;
                case 5: case 6:
                    if (++i == cpCount) {
                        throw new Malformed("constant pool ends in the middle of a long or double");
                    }
                    p += 9;
                    break;
                case 7: case 8: case 16: case 19: case 20:
                    below &= ((b[p + 1] & 0xFF) << 8 | (b[p + 2] & 0xFF)) - cpCount;
                    p += 3;
                    break;
                case 15: constant(p + 2); p += 4; break;
                default: return false;
            }
            if (p > end) { // within(), inline: this runs per constant, often before the JIT compiled it
                throw new Malformed("constant pool runs past the end of the class file");
            }
        }
        if (below >= 0) { // some reference minus cpCount was not negative
            throw new Malformed("a constant refers past the constant pool");
        }
        cpEnd = p;
        return true;
    }

    /** Checks that the u2 at {@code p} refers to no constant past the pool (0 is left to the JVM). */
    final void constant(int p) {
        int index = (in[p] & 0xFF) << 8 | (in[p + 1] & 0xFF);
        if (index >= cpCount) {
            throw new Malformed("constant #" + index + " is past the constant pool");
        }
    }

    /** Offset of the fields count: after access flags, this and super class, and the interfaces. */
    final int fieldsStart() {
        int p = cpEnd + 6;
        return within(p + 2, 2L * u2(p), "interfaces");
    }

    /** Whether constant {@code index} is the Utf8 {@code expected} (compared as bytes, nothing allocated). */
    final boolean utf8Is(int index, byte[] expected) {
        return utf8At(utf8(index), expected);
    }

    /** Whether the Utf8 constant at offset {@code p} (checked to be one) is {@code expected}. */
    final boolean utf8At(int p, byte[] expected) {
        byte[] b = in;
        if (((b[p + 1] & 0xFF) << 8 | (b[p + 2] & 0xFF)) != expected.length) {
            return false;
        }
        for (int i = 0; i < expected.length; i++) {
            if (b[p + 3 + i] != expected[i]) {
                return false;
            }
        }
        return true;
    }

    /** The offset of constant {@code index}, which must be a Utf8. */
    final int utf8(int index) {
        int p = index > 0 && index < cpCount ? cpOffset[index] : 0;
        if (p == 0 || in[p] != 1) {
            throw new Malformed("constant #" + index + " is not a Utf8");
        }
        return p;
    }

    /**
     * Constant {@code index} (a Utf8) for a message: printable ASCII kept, anything else as '?', at
     * most 200 characters. Names from a class file are data, and a message must not echo control bytes.
     */
    final String printable(int index) {
        int p = utf8(index);
        int length = Math.min(u2(p + 1), 200);
        StringBuilder s = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            int b = in[p + 3 + i];
            s.append(b >= 0x20 && b < 0x7F ? (char) b : '?');
        }
        return s.toString();
    }

    /**
     * The class's internal name (this_class), decoded from modified UTF-8 exactly as the JVM names it,
     * or "" if this_class is not a class constant with a well-formed name.
     */
    final String className() {
        int c = u2(cpEnd + 2);
        int p = c > 0 && c < cpCount ? cpOffset[c] : 0;
        if (p == 0 || u1(p) != 7) {
            return "";
        }
        int name = utf8(u2(p + 1));
        try {
            return new java.io.DataInputStream(new java.io.ByteArrayInputStream(in, name + 1, 2 + u2(name + 1))).readUTF();
        } catch (java.io.IOException malformed) {
            return "";
        }
    }

    /**
     * The poll group of this class ({@code PollGroup.of(className())}), hashed straight from the
     * name's bytes when they are ASCII (every class name in practice), without building the string.
     */
    final int pollGroup() {
        int c = u2(cpEnd + 2);
        int p = c > 0 && c < cpCount ? cpOffset[c] : 0;
        if (p != 0 && u1(p) == 7) {
            int name = utf8(u2(p + 1));
            int h = 0;
            for (int i = name + 3, end = name + 3 + u2(name + 1); i < end; i++) {
                int b = in[i];
                if (b <= 0) { // not ASCII (or the 0 byte a name never holds): decode it properly
                    return PollGroup.of(className());
                }
                h = PollGroup.step(h, (char) b);
            }
            return PollGroup.ofHash(h);
        }
        return PollGroup.of("");
    }

    /** The end of the field or method starting at {@code p}, its attributes checked to lie inside the input. */
    final int skipMember(int p) {
        int attrs = u2(p + 6);
        p += 8;
        for (int a = 0; a < attrs; a++) {
            p += 6 + attributeLength(p);
        }
        return p;
    }
}
