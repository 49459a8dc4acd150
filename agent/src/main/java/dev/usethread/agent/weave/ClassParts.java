package dev.usethread.agent.weave;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A class file as the list of its parts, byte for byte, with the order of attributes within one
 * place (class, field, method, code) ignored: the JVM gives that order no meaning, and ASM writes
 * its own. Two class files with equal parts mean the same. Used to accept ASM's output only when
 * ASM, copying the class without polls, changes nothing else: no attribute dropped, moved out of
 * the code, merged, or "repaired".
 */
final class ClassParts extends ClassFile {
    private static final byte[] CODE = ascii("Code");

    private final List<ByteBuffer> parts = new ArrayList<>();

    private ClassParts(byte[] in) {
        super(in);
    }

    /** The parts of {@code classFile}; throws {@link Malformed} (or an index exception) if it is not well formed. */
    static List<ByteBuffer> of(byte[] classFile) {
        ClassParts c = new ClassParts(classFile);
        c.read();
        return c.parts;
    }

    private void read() {
        if (!readConstantPool()) {
            throw new Malformed("unknown constant pool tag");
        }
        int p = fieldsStart();
        part(0, p); // header, constant pool, access flags, this and super class, interfaces
        for (int kind = 0; kind < 2; kind++) { // fields, then methods
            int members = u2(p);
            part(p, 2);
            p += 2;
            for (int i = 0; i < members; i++) {
                part(p, 6); // access, name, descriptor
                p = attributes(p + 6, kind == 1);
            }
        }
        p = attributes(p, false);
        part(p, in.length - p);
    }

    /** Adds the attributes starting at {@code p} (their count first), sorted; returns their end. */
    private int attributes(int p, boolean method) {
        int count = u2(p);
        part(p, 2);
        p += 2;
        List<ByteBuffer> attrs = new ArrayList<>(count);
        for (int a = 0; a < count; a++) {
            int len = attributeLength(p);
            if (method && utf8Is(u2(p), CODE)) {
                code(p, len);
            } else {
                attrs.add(ByteBuffer.wrap(in, p, 6 + len));
            }
            p += 6 + len;
        }
        Collections.sort(attrs);
        parts.addAll(attrs);
        return p;
    }

    /** A Code attribute: its header, code and exception table as one part, then its own attributes. */
    private void code(int attr, int len) {
        int codeLength = s4(attr + 10);
        int exc = within(attr + 14, codeLength & 0xFFFFFFFFL, "code");
        int sub = within(exc + 2, 8L * u2(exc), "exception table");
        part(attr, sub - attr);
        if (attributes(sub, false) != attr + 6 + len) {
            throw new Malformed("Code attribute length");
        }
    }

    private void part(int p, int length) {
        within(p, length, "part");
        parts.add(ByteBuffer.wrap(in, p, length));
    }
}
