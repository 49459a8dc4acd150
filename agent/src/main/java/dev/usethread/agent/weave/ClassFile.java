package dev.usethread.agent.weave;

import java.nio.charset.StandardCharsets;

/**
 * Reads a class file in place: big-endian numbers, the constant pool's entry offsets, member
 * boundaries. The base of the byte patcher and the {@code @ForceInline} marker, which rewrite
 * class files without a class-file library.
 */
abstract class ClassFile {
    final byte[] in;
    /** Offset of each constant pool entry (index 0 and the second slot of longs/doubles unused). */
    int[] cpOffset;
    int cpCount;
    /** Offset just after the constant pool: the access flags. */
    int cpEnd;

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

    /** Checks the magic number and records where each constant lies; false for an unknown tag. */
    final boolean readConstantPool() {
        if (s4(0) != 0xCAFEBABE) {
            return false;
        }
        cpCount = u2(8);
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
                default: return false;
            }
        }
        cpEnd = p;
        return true;
    }

    /** Offset of the fields count: after access flags, this and super class, and the interfaces. */
    final int fieldsStart() {
        int p = cpEnd + 6;
        return p + 2 + 2 * u2(p);
    }

    /** Whether constant {@code index} is the Utf8 {@code expected} (compared as bytes, nothing allocated). */
    final boolean utf8Is(int index, byte[] expected) {
        int p = cpOffset[index];
        if (u1(p) != 1) {
            throw new IllegalStateException("not Utf8");
        }
        int length = u2(p + 1);
        if (length != expected.length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (in[p + 3 + i] != expected[i]) {
                return false;
            }
        }
        return true;
    }

    /** The end of the field or method starting at {@code p}. */
    final int skipMember(int p) {
        int attrs = u2(p + 6);
        p += 8;
        for (int a = 0; a < attrs; a++) {
            p += 6 + s4(p + 2);
        }
        return p;
    }
}
