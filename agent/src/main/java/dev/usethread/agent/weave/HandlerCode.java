package dev.usethread.agent.weave;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * For the ASM weaver, a first pass over a class: in each method, the back-edges whose backward targets
 * all lie in handler-only code, which get {@code Poll.pollInHandler()} instead of {@code Poll.poll()}.
 *
 * <p>"Normal" code is what offset 0 reaches by normal control flow alone: fall-through (not after
 * {@code goto}, {@code athrow}, returns, switches or {@code ret}), jump and switch targets, {@code jsr}
 * targets and the instruction after a {@code jsr}. Handler starts are not roots, so everything else
 * is handler-only code (a {@code catch} or {@code finally} body and what only it reaches). A method
 * without exception handlers has no handler-only code. {@link BytePatcher} computes the same.
 */
final class HandlerCode {
    private HandlerCode() {
    }

    /**
     * Per method, in class-file order: the indices (counting instructions from 0) of the back-edges
     * whose backward targets are all handler-only code; an empty set for methods without them.
     */
    static List<BitSet> handlerBackEdges(ClassReader reader) {
        List<BitSet> out = new ArrayList<>();
        reader.accept(new ClassVisitor(Weaver.ASM_API) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String desc, String sig, String[] exc) {
                Method m = new Method();
                out.add(m.result);
                return m;
            }
        }, ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
        return out;
    }

    /**
     * Per method, in class-file order: the indices of the instructions that start an exception handler
     * and are also reached by normal flow: offset 0, fall-through from the instruction before (also
     * after a {@code jsr}, where its {@code ret} returns), or a jump, switch or {@code jsr} target. In
     * a class of version < 50 they get no caught hook (see {@link BytePatcher}, which computes the same).
     */
    static List<BitSet> handlerStartsReachedNormally(ClassReader reader) {
        List<BitSet> out = new ArrayList<>();
        reader.accept(new ClassVisitor(Weaver.ASM_API) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String desc, String sig, String[] exc) {
                Method m = new Method(true);
                out.add(m.result);
                return m;
            }
        }, ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
        return out;
    }

    private static final byte FALL = 0;
    private static final byte END = 1;
    private static final byte GOTO = 2;
    private static final byte BRANCH = 3; // conditional jumps and jsr: target and fall-through
    private static final byte SWITCH = 4;

    /** Records each instruction's control flow; the analysis runs at the method's end. */
    private static final class Method extends MethodVisitor {
        final BitSet result = new BitSet();
        /** Whether {@link #result} is the handler starts reached normally, not the handler back-edges. */
        private final boolean handlerStarts;
        private final List<Label> handlerLabels = new ArrayList<>();
        private final Map<Label, Integer> labelAt = new HashMap<>();
        private final List<Label[]> targets = new ArrayList<>();
        private byte[] kinds = new byte[64];
        private int count;
        private boolean handlers;

        Method() {
            this(false);
        }

        Method(boolean handlerStarts) {
            super(Weaver.ASM_API);
            this.handlerStarts = handlerStarts;
        }

        private void insn(byte kind, Label... to) {
            if (count == kinds.length) {
                kinds = java.util.Arrays.copyOf(kinds, count * 2);
            }
            kinds[count++] = kind;
            targets.add(to);
        }

        @Override
        public void visitTryCatchBlock(Label start, Label end, Label handler, String type) {
            handlers = true;
            handlerLabels.add(handler);
        }

        @Override
        public void visitLabel(Label label) {
            labelAt.put(label, count);
        }

        @Override
        public void visitInsn(int opcode) {
            boolean end = opcode == Opcodes.ATHROW || (opcode >= Opcodes.IRETURN && opcode <= Opcodes.RETURN);
            insn(end ? END : FALL);
        }

        @Override
        public void visitIntInsn(int opcode, int operand) {
            insn(FALL);
        }

        @Override
        public void visitVarInsn(int opcode, int var) {
            insn(opcode == Opcodes.RET ? END : FALL);
        }

        @Override
        public void visitTypeInsn(int opcode, String type) {
            insn(FALL);
        }

        @Override
        public void visitFieldInsn(int opcode, String owner, String name, String descriptor) {
            insn(FALL);
        }

        @Override
        public void visitMethodInsn(int opcode, String owner, String name, String descriptor, boolean isInterface) {
            insn(FALL);
        }

        @Override
        public void visitInvokeDynamicInsn(String name, String descriptor, org.objectweb.asm.Handle bsm,
                Object... args) {
            insn(FALL);
        }

        @Override
        public void visitJumpInsn(int opcode, Label label) {
            insn(opcode == Opcodes.GOTO ? GOTO : BRANCH, label);
        }

        @Override
        public void visitLdcInsn(Object value) {
            insn(FALL);
        }

        @Override
        public void visitIincInsn(int var, int increment) {
            insn(FALL);
        }

        @Override
        public void visitTableSwitchInsn(int min, int max, Label dflt, Label... labels) {
            insn(SWITCH, with(dflt, labels));
        }

        @Override
        public void visitLookupSwitchInsn(Label dflt, int[] keys, Label[] labels) {
            insn(SWITCH, with(dflt, labels));
        }

        @Override
        public void visitMultiANewArrayInsn(String descriptor, int dims) {
            insn(FALL);
        }

        private static Label[] with(Label dflt, Label[] labels) {
            Label[] all = java.util.Arrays.copyOf(labels, labels.length + 1);
            all[labels.length] = dflt;
            return all;
        }

        @Override
        public void visitEnd() {
            if (!handlers || count == 0) {
                return;
            }
            if (handlerStarts) {
                handlerStartsReachedNormally();
                return;
            }
            boolean[] normal = new boolean[count];
            int[] work = new int[count];
            int top = 0;
            work[top++] = 0;
            normal[0] = true;
            while (top > 0) {
                int i = work[--top];
                byte kind = kinds[i];
                if (kind != SWITCH && kind != GOTO && kind != END && i + 1 < count && !normal[i + 1]) {
                    normal[i + 1] = true;
                    work[top++] = i + 1;
                }
                for (Label l : targets.get(i)) {
                    int t = labelAt.get(l);
                    if (t < count && !normal[t]) {
                        normal[t] = true;
                        work[top++] = t;
                    }
                }
            }
            for (int i = 0; i < count; i++) {
                byte kind = kinds[i];
                if (kind != GOTO && kind != BRANCH && kind != SWITCH) {
                    continue;
                }
                boolean backward = false;
                boolean allHandlerOnly = true;
                for (Label l : targets.get(i)) {
                    int t = labelAt.get(l);
                    if (t <= i) {
                        backward = true;
                        allHandlerOnly &= !normal[t];
                    }
                }
                if (backward && allHandlerOnly) {
                    result.set(i);
                }
            }
        }

        private void handlerStartsReachedNormally() {
            BitSet reached = new BitSet();
            reached.set(0);
            for (int i = 0; i < count; i++) {
                if ((kinds[i] == FALL || kinds[i] == BRANCH) && i + 1 < count) {
                    reached.set(i + 1);
                }
                for (Label l : targets.get(i)) {
                    reached.set(labelAt.get(l));
                }
            }
            for (Label h : handlerLabels) {
                int at = labelAt.get(h);
                if (reached.get(at)) {
                    result.set(at);
                }
            }
        }
    }
}
