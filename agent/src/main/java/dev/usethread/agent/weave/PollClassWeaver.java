package dev.usethread.agent.weave;

import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/** Routes every method that may get polls through {@link PollMethodWeaver}. */
final class PollClassWeaver extends ClassVisitor {
    private final Weaver.Counter counter;

    PollClassWeaver(ClassVisitor next, Weaver.Counter counter) {
        super(Weaver.ASM_API, next);
        this.counter = counter;
    }

    @Override
    public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
            String[] exceptions) {
        MethodVisitor next = super.visitMethod(access, name, descriptor, signature, exceptions);
        if (next == null || !weavable(access, name)) {
            return next;
        }
        PollMethodWeaver weaver = new PollMethodWeaver(Weaver.ASM_API, next, true);
        counter.add(weaver);
        return weaver;
    }

    /**
     * Never in a static initializer (a signal there poisons the class for good), bridges (they only
     * forward), or methods without code.
     */
    static boolean weavable(int access, String name) {
        return !"<clinit>".equals(name) && weavableAccess(access);
    }

    static boolean weavableAccess(int access) {
        return (access & (Opcodes.ACC_BRIDGE | Opcodes.ACC_ABSTRACT | Opcodes.ACC_NATIVE)) == 0;
    }
}
