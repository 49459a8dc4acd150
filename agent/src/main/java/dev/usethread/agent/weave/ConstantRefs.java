package dev.usethread.agent.weave;

/**
 * Checks that a class file refers to no constant past its constant pool, outside code (the byte
 * patcher checks code itself). The patcher appends the poll's constants at the end of the pool: a
 * reference that pointed past the old end, which the JVM rejects, would then point at one of them and
 * be accepted. So such a class is declined; the JVM rejects it as it was.
 *
 * <p>It reads the references in the constant pool, the class header, fields, methods, and the
 * attributes the JVM reads (annotations included); attributes the JVM does not know are ignored by
 * the JVM, and here.
 */
final class ConstantRefs {
    private static final byte[] CODE = ClassFile.ascii("Code");
    private static final byte[] ONE_REF = ClassFile.ascii("ConstantValue Signature SourceFile NestHost ModuleMainClass");
    private static final byte[] REF_LIST = ClassFile.ascii("Exceptions NestMembers PermittedSubclasses ModulePackages");
    private static final byte[] INNER_CLASSES = ClassFile.ascii("InnerClasses");
    private static final byte[] ENCLOSING_METHOD = ClassFile.ascii("EnclosingMethod");
    private static final byte[] METHOD_PARAMETERS = ClassFile.ascii("MethodParameters");
    private static final byte[] BOOTSTRAP_METHODS = ClassFile.ascii("BootstrapMethods");
    private static final byte[] RECORD = ClassFile.ascii("Record");
    private static final byte[] ANNOTATIONS = ClassFile.ascii("RuntimeVisibleAnnotations RuntimeInvisibleAnnotations");
    private static final byte[] PARAMETER_ANNOTATIONS =
            ClassFile.ascii("RuntimeVisibleParameterAnnotations RuntimeInvisibleParameterAnnotations");
    private static final byte[] TYPE_ANNOTATIONS = ClassFile.ascii("RuntimeVisibleTypeAnnotations RuntimeInvisibleTypeAnnotations");
    private static final byte[] ANNOTATION_DEFAULT = ClassFile.ascii("AnnotationDefault");

    private final ClassFile c;
    private int depth;

    private ConstantRefs(ClassFile c) {
        this.c = c;
    }

    /** Throws {@link ClassFile.Malformed} for a reference past the pool, in {@code c} outside its code. */
    static ConstantRefs check(ClassFile c) {
        ConstantRefs refs = new ConstantRefs(c);
        refs.run();
        return refs;
    }

    private void run() {
        for (int i = 1; i < c.cpCount; i++) {
            int p = c.cpOffset[i];
            switch (c.u1(p)) {
                case 7: case 8: case 16: case 19: case 20: ref(p + 1); break;
                case 9: case 10: case 11: case 12: ref(p + 1); ref(p + 3); break;
                case 15: ref(p + 2); break;
                case 17: case 18: ref(p + 3); break;
                default: break; // Utf8, numbers: no references; the second slot of a long is 0
            }
        }
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
    private int attributes(int p) {
        int count = c.u2(p);
        p += 2;
        for (int a = 0; a < count; a++) {
            int name = c.u2(p);
            int len = c.attributeLength(p);
            c.utf8(name);
            int body = p + 6;
            if (!c.utf8Is(name, CODE)) {
                attribute(name, body);
            }
            p = body + len;
        }
        return p;
    }

    private void attribute(int name, int b) {
        if (nameIn(name, ONE_REF)) {
            ref(b);
        } else if (nameIn(name, REF_LIST)) {
            refs(b + 2, c.u2(b), 2);
        } else if (c.utf8Is(name, INNER_CLASSES)) {
            for (int i = 0, n = c.u2(b); i < n; i++) {
                ref(b + 2 + 8 * i);
                ref(b + 4 + 8 * i);
                ref(b + 6 + 8 * i);
            }
        } else if (c.utf8Is(name, ENCLOSING_METHOD)) {
            ref(b);
            ref(b + 2);
        } else if (c.utf8Is(name, METHOD_PARAMETERS)) {
            refs(b + 1, c.u1(b), 4);
        } else if (c.utf8Is(name, BOOTSTRAP_METHODS)) {
            int q = b + 2;
            for (int i = 0, n = c.u2(b); i < n; i++) {
                ref(q);
                int args = c.u2(q + 2);
                refs(q + 4, args, 2);
                q += 4 + 2 * args;
            }
        } else if (c.utf8Is(name, RECORD)) {
            int q = b + 2;
            for (int i = 0, n = c.u2(b); i < n; i++) {
                ref(q);
                ref(q + 2);
                q = attributes(q + 4);
            }
        } else if (nameIn(name, ANNOTATIONS)) {
            annotations(b);
        } else if (nameIn(name, PARAMETER_ANNOTATIONS)) {
            int q = b + 1;
            for (int i = 0, n = c.u1(b); i < n; i++) {
                q = annotations(q);
            }
        } else if (nameIn(name, TYPE_ANNOTATIONS)) {
            int q = b + 2;
            for (int i = 0, n = c.u2(b); i < n; i++) {
                q = typeAnnotation(q);
            }
        } else if (c.utf8Is(name, ANNOTATION_DEFAULT)) {
            elementValue(b);
        }
    }

    /** Whether Utf8 constant {@code name} is one of the space-separated {@code names}. */
    private boolean nameIn(int name, byte[] names) {
        int p = c.utf8(name);
        int length = c.u2(p + 1);
        for (int start = 0; start < names.length; ) {
            int end = start;
            while (end < names.length && names[end] != ' ') {
                end++;
            }
            if (end - start == length && java.util.Arrays.equals(c.in, p + 3, p + 3 + length, names, start, end)) {
                return true;
            }
            start = end + 1;
        }
        return false;
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
        int index = c.u2(p);
        if (index >= c.cpCount) {
            throw new ClassFile.Malformed("constant #" + index + " is past the constant pool");
        }
    }
}
