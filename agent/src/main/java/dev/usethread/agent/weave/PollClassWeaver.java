package dev.usethread.agent.weave;

import java.util.BitSet;
import java.util.List;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/** Routes every method that may get polls through {@link PollMethodWeaver}. */
final class PollClassWeaver extends ClassVisitor {
    private final Weaver.Counter counter;
    /** Per method in class-file order, from {@link HandlerCode#handlerBackEdges}. */
    private final List<BitSet> handlerBackEdges;
    private int methodIndex;
    private String className;
    /** Per method, for a class of version < 50: handler starts that get no caught hook; else null. */
    private final List<BitSet> handlerStartsReachedNormally;

    PollClassWeaver(ClassVisitor next, Weaver.Counter counter, List<BitSet> handlerBackEdges,
            List<BitSet> handlerStartsReachedNormally) {
        super(Weaver.ASM_API, next);
        this.counter = counter;
        this.handlerBackEdges = handlerBackEdges;
        this.handlerStartsReachedNormally = handlerStartsReachedNormally;
    }

    @Override
    public void visit(int version, int access, String name, String signature, String superName,
            String[] interfaces) {
        className = name;
        super.visit(version, access, name, signature, superName, interfaces);
    }

    @Override
    public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
            String[] exceptions) {
        BitSet unhooked = handlerStartsReachedNormally == null ? null : handlerStartsReachedNormally.get(methodIndex);
        BitSet backEdges = handlerBackEdges.get(methodIndex++);
        MethodVisitor next = super.visitMethod(access, name, descriptor, signature, exceptions);
        if (next == null || !weavable(access, name)) {
            return next;
        }
        PollMethodWeaver weaver = new PollMethodWeaver(Weaver.ASM_API, next, true, backEdges, className);
        weaver.noCaughtHookAt = unhooked;
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
