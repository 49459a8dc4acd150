package dev.usethread.agent.weave;

import java.util.ArrayList;
import java.util.List;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassTooLargeException;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodTooLargeException;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Weaves polls into one class file. Stateless and thread-safe. The class is rewritten without
 * recomputing frames (a poll or throw hook adds no stack or locals; a handler's caught hook needs
 * max_stack 2), so weaving never loads classes.
 */
public final class Weaver {
    static final int ASM_API = Opcodes.ASM9;

    private Weaver() {
    }

    /** The outcome for one class: either woven bytes, or unchanged with a reason. */
    public static final class Outcome {
        private final byte[] bytes;
        private final int polls;
        private final String skipReason;

        private Outcome(byte[] bytes, int polls, String skipReason) {
            this.bytes = bytes;
            this.polls = polls;
            this.skipReason = skipReason;
        }

        /** The woven class file, or null if the class is to be left as it was. */
        public byte[] bytes() {
            return bytes;
        }

        public int polls() {
            return polls;
        }

        /** Why the class was left as it was, or null if it was woven (or had nothing to weave). */
        public String skipReason() {
            return skipReason;
        }

        public boolean woven() {
            return bytes != null;
        }
    }

    /** Collects the method weavers of one class so their poll counts can be summed. */
    static final class Counter {
        private final List<PollMethodWeaver> methods = new ArrayList<>();

        void add(PollMethodWeaver m) {
            methods.add(m);
        }

        int polls() {
            int n = 0;
            for (PollMethodWeaver m : methods) {
                n += m.polls;
            }
            return n;
        }
    }

    /** Whether the byte patcher weaves ({@code -Dusethread.weaver=asm}: it only checks, and ASM weaves). */
    static final boolean PATCH_BYTES = !"asm".equals(System.getProperty("usethread.weaver"));

    /** The weaver in use, {@code patch} or {@code asm}: part of the woven-class cache's key. */
    public static String mode() {
        return PATCH_BYTES ? "patch" : "asm";
    }

    /**
     * Weaves with the byte patcher. ASM weaves only a class the patcher read completely and declined
     * because a short branch no longer fits (ASM widens it), and only if ASM copies the class without
     * changing anything but the polls; anything else the patcher declines is left as it was, with its
     * reason. So a class the JVM would reject stays rejected, and one it accepts means the same.
     */
    public static Outcome weave(byte[] classFile) {
        BytePatcher.Result patched = BytePatcher.weave(classFile);
        if (patched.declined == null && PATCH_BYTES) {
            return new Outcome(patched.bytes, patched.polls, null);
        }
        if (patched.declined != null && !patched.asmMay) {
            return new Outcome(null, 0, patched.declined);
        }
        String changed = asmChangesMoreThanPolls(classFile);
        if (changed != null) {
            return new Outcome(null, 0, (patched.declined != null ? patched.declined + ", and " : "") + changed);
        }
        return weaveWithAsm(classFile);
    }

    /**
     * Null if ASM, copying {@code classFile} the way it weaves it but without polls, gives a class
     * with the same parts (attribute order aside); otherwise what ASM would change.
     */
    static String asmChangesMoreThanPolls(byte[] classFile) {
        try {
            ClassReader reader = new ClassReader(classFile);
            ClassWriter writer = new ClassWriter(reader, 0);
            reader.accept(new ClassVisitor(ASM_API, writer) {
                @Override
                public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                        String[] exceptions) {
                    MethodVisitor next = super.visitMethod(access, name, descriptor, signature, exceptions);
                    // Rewritten instruction by instruction, as the poll weaver does, instead of copied whole.
                    return next == null || !PollClassWeaver.weavable(access, name) ? next
                            : new MethodVisitor(ASM_API, next) { };
                }
            }, 0);
            if (!ClassParts.of(writer.toByteArray()).equals(ClassParts.of(classFile))) {
                return "the ASM weaver would change more than the polls";
            }
            return null;
        } catch (RuntimeException | LinkageError | StackOverflowError e) {
            return "the ASM weaver cannot copy it: " + e.getClass().getSimpleName();
        }
    }

    /** The ASM weaver: the reference, and the fallback for what the byte patcher does not handle. */
    static Outcome weaveWithAsm(byte[] classFile) {
        ClassReader reader;
        try {
            reader = new ClassReader(classFile);
        } catch (IllegalArgumentException e) {
            // ASM refuses class-file versions it does not know.
            return new Outcome(null, 0, "cannot read class file: " + e.getMessage());
        } catch (RuntimeException e) {
            return new Outcome(null, 0, "cannot read class file: " + e);
        }
        if ((reader.getAccess() & Opcodes.ACC_MODULE) != 0) {
            return new Outcome(null, 0, null);
        }
        try {
            ClassWriter writer = new ClassWriter(reader, 0);
            Counter counter = new Counter();
            // Before version 50 (type inference) a handler start reached normally gets no caught hook.
            List<java.util.BitSet> unhooked = (reader.readUnsignedShort(6) & 0xFFFF) < 50
                    ? HandlerCode.handlerStartsReachedNormally(reader) : null;
            reader.accept(new PollClassWeaver(writer, counter, HandlerCode.handlerBackEdges(reader), unhooked), 0);
            int polls = counter.polls();
            if (polls == 0) {
                return new Outcome(null, 0, null);
            }
            return new Outcome(writer.toByteArray(), polls, null);
        } catch (MethodTooLargeException e) {
            return new Outcome(null, 0, "method too large with polls: " + e.getMethodName() + e.getDescriptor()
                    + " (" + e.getCodeSize() + " bytes)");
        } catch (ClassTooLargeException e) {
            return new Outcome(null, 0, "class too large with polls (constant pool " + e.getConstantPoolCount() + ")");
        } catch (RuntimeException | LinkageError | StackOverflowError e) {
            return new Outcome(null, 0, "weaving failed: " + e);
        }
    }
}
