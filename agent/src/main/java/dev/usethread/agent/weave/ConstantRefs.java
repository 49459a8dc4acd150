package dev.usethread.agent.weave;

import jdk.internal.vm.annotation.DontInline;

/**
 * Checks that a class file refers to no constant past its constant pool, outside code (the byte
 * patcher checks code itself). The patcher appends the constants of the calls it inserts at the end
 * of the pool (up to four Methodrefs: poll, pollInHandler, caught, thrown, and their names): a
 * reference that pointed past the old end, which the JVM rejects, could then point at one of them and
 * be accepted. So such a class is declined; the JVM rejects it as it was.
 *
 * <p>It reads the references in the class header, fields, methods, and the
 * attributes the JVM reads (annotations included); attributes the JVM does not know are ignored by
 * the JVM, and here. Its per-attribute steps are {@code @DontInline}, like the patcher's (see
 * {@link BytePatcher}).
 */
final class ConstantRefs {
    // What an attribute name means here, found once per name constant: classes repeat a few names.
    private static final byte IGNORED = 1;
    private static final byte ONE = 2;
    private static final byte LIST = 3;
    private static final byte INNER = 4;
    private static final byte ENCLOSING = 5;
    private static final byte PARAMETERS = 6;
    private static final byte BOOTSTRAP = 7;
    private static final byte RECORD_COMPONENTS = 8;
    private static final byte ANNOTATION_LIST = 9;
    private static final byte PARAMETER_ANNOTATION_LIST = 10;
    private static final byte TYPE_ANNOTATION_LIST = 11;
    private static final byte DEFAULT_VALUE = 12;

    /** The attribute names read here, each with its kind; any other name (Code included) is IGNORED. */
    private static final byte[][] NAMES = {
        ClassFile.ascii("ConstantValue"), ClassFile.ascii("Signature"), ClassFile.ascii("SourceFile"),
        ClassFile.ascii("NestHost"), ClassFile.ascii("ModuleMainClass"),
        ClassFile.ascii("Exceptions"), ClassFile.ascii("NestMembers"), ClassFile.ascii("PermittedSubclasses"),
        ClassFile.ascii("ModulePackages"),
        ClassFile.ascii("InnerClasses"), ClassFile.ascii("EnclosingMethod"), ClassFile.ascii("MethodParameters"),
        ClassFile.ascii("BootstrapMethods"), ClassFile.ascii("Record"),
        ClassFile.ascii("RuntimeVisibleAnnotations"), ClassFile.ascii("RuntimeInvisibleAnnotations"),
        ClassFile.ascii("RuntimeVisibleParameterAnnotations"), ClassFile.ascii("RuntimeInvisibleParameterAnnotations"),
        ClassFile.ascii("RuntimeVisibleTypeAnnotations"), ClassFile.ascii("RuntimeInvisibleTypeAnnotations"),
        ClassFile.ascii("AnnotationDefault"),
    };
    private static final byte[] KINDS = {
        ONE, ONE, ONE, ONE, ONE,
        LIST, LIST, LIST, LIST,
        INNER, ENCLOSING, PARAMETERS, BOOTSTRAP, RECORD_COMPONENTS,
        ANNOTATION_LIST, ANNOTATION_LIST, PARAMETER_ANNOTATION_LIST, PARAMETER_ANNOTATION_LIST,
        TYPE_ANNOTATION_LIST, TYPE_ANNOTATION_LIST, DEFAULT_VALUE,
    };

    private final ClassFile c;
    private final byte[] kinds;
    private int depth;

    private ConstantRefs(ClassFile c) {
        this.c = c;
        this.kinds = new byte[c.cpCount];
    }

    /** Throws {@link ClassFile.Malformed} for a reference past the pool, in {@code c} outside its code. */
    static ConstantRefs check(ClassFile c) {
        ConstantRefs refs = new ConstantRefs(c);
        refs.run();
        return refs;
    }

    private void run() { // the constant pool's own references were checked as it was read
        int p = c.cpEnd + 2;
        ref(p);
        ref(p + 2);
        int interfaces = c.u2(p + 4);
        p += 6;
        for (int i = 0; i < interfaces; i++, p += 2) {
            ref(p);
        }
        for (int kind = 0; kind < 2; kind++) { // fields, then methods
            int members = c.u2(p);
            p += 2;
            for (int i = 0; i < members; i++) {
                ref(p + 2);
                ref(p + 4);
                p = attributes(p + 6);
            }
        }
        attributes(p);
    }

    /** Checks the attributes starting at {@code p} (not inside Code); returns their end. */
    @DontInline
    private int attributes(int p) {
        int count = c.u2(p);
        p += 2;
        for (int a = 0; a < count; a++) {
            int name = c.u2(p);
            int len = c.attributeLength(p);
            int body = p + 6;
            int kind = name < kinds.length ? kinds[name] : 0;
            if (kind == 0) {
                kind = kind(name);
                kinds[name] = (byte) kind;
            }
            if (kind != IGNORED) {
                attribute(kind, body);
            }
            p = body + len;
        }
        return p;
    }

    /** What attribute name {@code name} means here (Code and unknown attributes: nothing to check). */
    private int kind(int name) {
        int p = c.utf8(name);
        int length = c.u2(p + 1);
        for (int i = 0; i < NAMES.length; i++) {
            if (NAMES[i].length == length && c.utf8At(p, NAMES[i])) {
                return KINDS[i];
            }
        }
        return IGNORED;
    }

    @DontInline
    private void attribute(int kind, int b) {
        if (kind == ONE) {
            ref(b);
        } else if (kind == LIST) {
            refs(b + 2, c.u2(b), 2);
        } else if (kind == INNER) {
            for (int i = 0, n = c.u2(b); i < n; i++) {
                ref(b + 2 + 8 * i);
                ref(b + 4 + 8 * i);
                ref(b + 6 + 8 * i);
            }
        } else if (kind == ENCLOSING) {
            ref(b);
            ref(b + 2);
        } else if (kind == PARAMETERS) {
            refs(b + 1, c.u1(b), 4);
        } else if (kind == BOOTSTRAP) {
            int q = b + 2;
            for (int i = 0, n = c.u2(b); i < n; i++) {
                ref(q);
                int args = c.u2(q + 2);
                refs(q + 4, args, 2);
                q += 4 + 2 * args;
            }
        } else if (kind == RECORD_COMPONENTS) {
            int q = b + 2;
            for (int i = 0, n = c.u2(b); i < n; i++) {
                ref(q);
                ref(q + 2);
                q = attributes(q + 4);
            }
        } else if (kind == ANNOTATION_LIST) {
            annotations(b);
        } else if (kind == PARAMETER_ANNOTATION_LIST) {
            int q = b + 1;
            for (int i = 0, n = c.u1(b); i < n; i++) {
                q = annotations(q);
            }
        } else if (kind == TYPE_ANNOTATION_LIST) {
            int q = b + 2;
            for (int i = 0, n = c.u2(b); i < n; i++) {
                q = typeAnnotation(q);
            }
        } else if (kind == DEFAULT_VALUE) {
            elementValue(b);
        }
    }

    /** A type annotation outside code (JVMS 4.7.20: class, field and method targets); returns its end. */
    private int typeAnnotation(int p) {
        int target = c.u1(p);
        int info;
        switch (target) {
            case 0x00: case 0x01: case 0x16: info = 1; break;
            case 0x10: case 0x11: case 0x12: case 0x17: info = 2; break;
            case 0x13: case 0x14: case 0x15: info = 0; break;
            default: throw new ClassFile.Malformed("type annotation target " + target);
        }
        int path = p + 1 + info;
        return annotation(path + 1 + 2 * c.u1(path));
    }

    /** num_annotations, then the annotations; returns the end. */
    private int annotations(int p) {
        int q = p + 2;
        for (int i = 0, n = c.u2(p); i < n; i++) {
            q = annotation(q);
        }
        return q;
    }

    /** An annotation (also one inside a type annotation in code); returns its end. */
    @DontInline
    int annotation(int p) {
        if (++depth > 256) {
            throw new ClassFile.Malformed("annotation nested too deep");
        }
        ref(p);
        int q = p + 4;
        for (int i = 0, n = c.u2(p + 2); i < n; i++) {
            ref(q);
            q = elementValue(q + 2);
        }
        depth--;
        return q;
    }

    private int elementValue(int p) {
        int tag = c.u1(p);
        switch (tag) {
            case 'B': case 'C': case 'D': case 'F': case 'I': case 'J': case 'S': case 'Z': case 's': case 'c':
                ref(p + 1);
                return p + 3;
            case 'e':
                ref(p + 1);
                ref(p + 3);
                return p + 5;
            case '@':
                return annotation(p + 1);
            case '[': {
                if (++depth > 256) {
                    throw new ClassFile.Malformed("annotation nested too deep");
                }
                int q = p + 3;
                for (int i = 0, n = c.u2(p + 1); i < n; i++) {
                    q = elementValue(q);
                }
                depth--;
                return q;
            }
            default:
                throw new ClassFile.Malformed("element_value tag " + tag);
        }
    }

    private void refs(int p, int n, int stride) {
        for (int i = 0; i < n; i++) {
            ref(p + stride * i);
        }
    }

    void ref(int p) {
        if (((c.in[p] & 0xFF) << 8 | (c.in[p + 1] & 0xFF)) >= c.cpCount) { // inline: runs per reference
            c.constant(p); // throws, saying which
        }
    }
}
