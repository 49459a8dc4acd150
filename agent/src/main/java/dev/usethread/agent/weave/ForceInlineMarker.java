package dev.usethread.agent.weave;

/**
 * Adds HotSpot's {@code @jdk.internal.vm.annotation.ForceInline} to named methods of a class file. The
 * agent applies it to {@code Poll.poll()} and {@code Poll.pollInHandler()} as the boot loader
 * defines it (the JVM honours the
 * annotation only there): C2 then inlines every woven poll whatever the caller's inlining budget.
 * Without it, big woven methods (an interpreter's dispatch loop with a poll per {@code continue})
 * spend that budget on polls; the polls that no longer fit become real calls, and the helpers that
 * no longer fit are not inlined (Rhino's interpreter ran 15 % slower). The annotation is written
 * into the class file, not compiled in: {@code jdk.internal.vm.annotation} is not exported.
 */
public final class ForceInlineMarker {
    static final String ANNOTATIONS = "RuntimeVisibleAnnotations";
    static final String FORCE_INLINE = "Ljdk/internal/vm/annotation/ForceInline;";
    static final String DONT_INLINE = "Ljdk/internal/vm/annotation/DontInline;";

    private ForceInlineMarker() {
    }

    /**
     * The class file with the annotation on every method named one of {@code methods}, or null if the
     * class file is not as expected or a name matches no method (then it is used unchanged: the
     * annotation only changes speed).
     */
    public static byte[] mark(byte[] in, String... methods) {
        return mark(in, methods, new String[0]);
    }

    /**
     * Like {@link #mark(byte[], String...)}, and {@code @DontInline} on every method named one of
     * {@code neverInline} (each name must match too).
     */
    public static byte[] mark(byte[] in, String[] methods, String[] neverInline) {
        try {
            return new Editor(in).mark(methods, neverInline);
        } catch (RuntimeException malformed) {
            return null;
        }
    }

    private static final class Editor extends ClassFile {
        private static final byte[] ANNOTATIONS_NAME = ascii(ANNOTATIONS);

        Editor(byte[] in) {
            super(in);
        }

        byte[] mark(String[] methods, String[] neverInline) {
            if (!readConstantPool() || cpCount + 3 > 0xFFFF) {
                return null;
            }
            java.util.Map<String, Integer> names = new java.util.HashMap<>((methods.length + neverInline.length) * 2);
            for (int i = 0; i < methods.length; i++) {
                names.put(methods[i], i);
            }
            for (int i = 0; i < neverInline.length; i++) {
                names.put(neverInline[i], methods.length + i);
            }
            boolean[] found = new boolean[methods.length + neverInline.length];
            int p = fieldsStart();
            int fields = u2(p);
            p += 2;
            for (int i = 0; i < fields; i++) {
                p = skipMember(p);
            }
            int annotationsName = cpCount;
            int forceInlineType = cpCount + 1;
            int dontInlineType = cpCount + 2;
            ByteOut out = new ByteOut(in.length + 128);
            out.bytes(in, 0, 8);
            out.u2(cpCount + 3);
            out.bytes(in, 10, cpEnd - 10);
            out.utf8(ANNOTATIONS);
            out.utf8(FORCE_INLINE);
            out.utf8(DONT_INLINE);
            out.bytes(in, cpEnd, p - cpEnd);
            int methodCount = u2(p);
            out.u2(methodCount);
            p += 2;
            for (int i = 0; i < methodCount; i++) {
                int end = skipMember(p);
                int named = names.getOrDefault(printable(u2(p + 2)), -1);
                if (named < 0) {
                    out.bytes(in, p, end - p);
                } else {
                    int attrs = u2(p + 6);
                    for (int a = 0, q = p + 8; a < attrs; a++, q += 6 + s4(q + 2)) {
                        if (utf8Is(u2(q), ANNOTATIONS_NAME)) {
                            return null; // would need merging; Poll's methods carry no annotations
                        }
                    }
                    out.bytes(in, p, 6);
                    out.u2(attrs + 1);
                    out.bytes(in, p + 8, end - p - 8);
                    out.u2(annotationsName);
                    out.u4(6);
                    out.u2(1); // one annotation
                    out.u2(named < methods.length ? forceInlineType : dontInlineType);
                    out.u2(0); // no element values
                    found[named] = true;
                }
                p = end;
            }
            out.bytes(in, p, in.length - p);
            for (boolean f : found) {
                if (!f) {
                    return null;
                }
            }
            return out.toArray();
        }
    }
}
