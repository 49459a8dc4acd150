package dev.usethread.agent.weave;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.objectweb.asm.Handle;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Adds a poll, a call to {@code GroupPolls.pN()} (N: the class's poll group), at the entry of a method
 * and before every backward jump or switch ({@code GroupPolls.hN()} when the loop lies wholly in
 * handler code, see {@link HandlerCode}). A poll is a zero-argument void static call: it changes neither the operand
 * stack nor the locals, so the method's stack map frames stay valid and nothing needs recomputing.
 * It also tells the runtime what the method catches and throws: {@code dup; Poll.caught(Throwable)}
 * at the start of every exception handler (where the stack holds just the throwable, so max_stack 2
 * suffices; see {@link BytePatcher#hookedMaxStack}) and {@code Poll.thrown(Throwable)Throwable},
 * which returns its argument, before every {@code athrow}. Both leave the stack as it was. In a class
 * of version < 50, a handler start that normal flow also reaches gets no caught hook
 * ({@link #noCaughtHookAt}).
 *
 * <p>A position covered by a "self-covering" handler (a handler that lies inside its own protected
 * range, as javac emits for {@code synchronized} and {@code finally}) gets no poll: a sticky signal
 * thrown there would be caught by the same handler forever. The class is read in one pass, so a range
 * is known to be self-covering once its handler label has been visited; positions before the handler
 * are safe because a throw there leaves for the handler, whose own back-edges are then not polled.
 */
final class PollMethodWeaver extends MethodVisitor {
    private final boolean entryPoll;
    private final BitSet handlerBackEdges;
    private final Set<Label> visited = new HashSet<>();
    private final Set<Label> handlers = new HashSet<>();
    private final List<Range> ranges = new ArrayList<>();
    /** Labels at offset 0: their line numbers go to the entry poll, so a frame stopped there has a line. */
    private final Set<Label> entryLabels = new HashSet<>();
    private Label entry;
    private int insns;
    /** This class's poll methods in GroupPolls. */
    private final String pollName;
    private final String pollInHandlerName;
    private boolean caughtPending;
    private Label caughtAt;
    /** Handler labels that start with 'new', to the label of that 'new' after the caught hook. */
    private final Map<Label, Label> newAfterHook = new HashMap<>();
    private boolean caughtHooks;
    int polls;
    /** Indices of handler-start instructions that get no caught hook, or null. */
    BitSet noCaughtHookAt;

    /** A try-catch range and how far the single pass has seen it. */
    private static final class Range {
        final Label start;
        final Label end;
        final Label handler;
        boolean open;
        boolean closed;
        boolean handlerSeenInside;

        Range(Label start, Label end, Label handler) {
            this.start = start;
            this.end = end;
            this.handler = handler;
        }
    }

    /**
     * {@code handlerBackEdges}: indices of the method's instructions (from 0) that are back-edges of
     * loops in handler-only code; {@code className} (internal name) chooses the poll group.
     */
    PollMethodWeaver(int api, MethodVisitor next, boolean entryPoll, BitSet handlerBackEdges, String className) {
        super(api, next);
        this.pollName = PollSites.pollName(className, PollSites.POLL);
        this.pollInHandlerName = PollSites.pollName(className, PollSites.POLL_IN_HANDLER);
        this.entryPoll = entryPoll;
        this.handlerBackEdges = handlerBackEdges;
    }

    @Override
    public void visitCode() {
        super.visitCode();
        if (entryPoll) {
            // Before the first label: outside every try range, and before super() in constructors,
            // which the verifier allows for a call that does not touch 'this'.
            entry = new Label();
            super.visitLabel(entry);
            poll(pollName);
        }
    }

    @Override
    public void visitTryCatchBlock(Label start, Label end, Label handler, String type) {
        ranges.add(new Range(start, end, handler));
        handlers.add(handler);
        super.visitTryCatchBlock(start, end, handler, type);
    }

    @Override
    public void visitLabel(Label label) {
        visited.add(label);
        if (insns == 0) {
            entryLabels.add(label);
        }
        if (handlers.contains(label) && (noCaughtHookAt == null || !noCaughtHookAt.get(insns))) {
            caughtPending = true; // after the label's line and frame, before its instruction
            caughtAt = label;
        }
        for (Range r : ranges) {
            if (label == r.start && !r.closed) {
                r.open = true;
            }
            if (label == r.end) {
                r.open = false;
                r.closed = true;
            }
            if (label == r.handler && r.open) {
                r.handlerSeenInside = true;
            }
        }
        super.visitLabel(label);
    }

    @Override
    public void visitLineNumber(int line, Label start) {
        super.visitLineNumber(line, entry != null && entryLabels.contains(start) ? entry : start);
    }

    /** Called before each instruction of the method; returns its index. */
    private int instruction() {
        if (caughtPending) {
            caughtPending = false;
            caughtHook();
        }
        return insns++;
    }

    @Override
    public void visitInsn(int opcode) {
        instruction();
        if (opcode == Opcodes.ATHROW) {
            super.visitMethodInsn(Opcodes.INVOKESTATIC, PollSites.OWNER, PollSites.THROWN, PollSites.THROWN_DESC, false);
        }
        super.visitInsn(opcode);
    }

    @Override
    public void visitIntInsn(int opcode, int operand) {
        instruction();
        super.visitIntInsn(opcode, operand);
    }

    @Override
    public void visitVarInsn(int opcode, int var) {
        instruction();
        super.visitVarInsn(opcode, var);
    }

    @Override
    public void visitTypeInsn(int opcode, String type) {
        Label handler = caughtPending ? caughtAt : null;
        instruction();
        if (handler != null && opcode == Opcodes.NEW) {
            // Frames name the object by the label of its 'new', which now lies after the hook.
            Label created = new Label();
            super.visitLabel(created);
            newAfterHook.put(handler, created);
        }
        super.visitTypeInsn(opcode, type);
    }

    @Override
    public void visitFrame(int type, int numLocal, Object[] local, int numStack, Object[] stack) {
        super.visitFrame(type, numLocal, uninitialized(local, numLocal), numStack, uninitialized(stack, numStack));
    }

    private Object[] uninitialized(Object[] types, int n) {
        if (newAfterHook.isEmpty() || types == null) {
            return types;
        }
        Object[] out = types.clone();
        for (int i = 0; i < n; i++) {
            Label created = out[i] instanceof Label ? newAfterHook.get(out[i]) : null;
            if (created != null) {
                out[i] = created;
            }
        }
        return out;
    }

    @Override
    public void visitFieldInsn(int opcode, String owner, String name, String descriptor) {
        instruction();
        super.visitFieldInsn(opcode, owner, name, descriptor);
    }

    @Override
    public void visitMethodInsn(int opcode, String owner, String name, String descriptor, boolean isInterface) {
        instruction();
        super.visitMethodInsn(opcode, owner, name, descriptor, isInterface);
    }

    @Override
    public void visitInvokeDynamicInsn(String name, String descriptor, Handle bsm, Object... args) {
        instruction();
        super.visitInvokeDynamicInsn(name, descriptor, bsm, args);
    }

    @Override
    public void visitLdcInsn(Object value) {
        instruction();
        super.visitLdcInsn(value);
    }

    @Override
    public void visitIincInsn(int var, int increment) {
        instruction();
        super.visitIincInsn(var, increment);
    }

    @Override
    public void visitMultiANewArrayInsn(String descriptor, int dims) {
        instruction();
        super.visitMultiANewArrayInsn(descriptor, dims);
    }

    @Override
    public void visitJumpInsn(int opcode, Label label) {
        int index = instruction();
        if (visited.contains(label) && opcode != Opcodes.JSR /* a backward jsr calls a subroutine */) {
            pollIfSafe(index);
        }
        super.visitJumpInsn(opcode, label);
    }

    @Override
    public void visitTableSwitchInsn(int min, int max, Label dflt, Label... labels) {
        int index = instruction();
        if (anyVisited(dflt, labels)) {
            pollIfSafe(index);
        }
        super.visitTableSwitchInsn(min, max, dflt, labels);
    }

    @Override
    public void visitLookupSwitchInsn(Label dflt, int[] keys, Label[] labels) {
        int index = instruction();
        if (anyVisited(dflt, labels)) {
            pollIfSafe(index);
        }
        super.visitLookupSwitchInsn(dflt, keys, labels);
    }

    @Override
    public void visitMaxs(int maxStack, int maxLocals) {
        // The class writer computes nothing (flags 0): this is the max_stack written.
        super.visitMaxs(BytePatcher.hookedMaxStack(maxStack, caughtHooks), maxLocals);
    }

    private boolean anyVisited(Label dflt, Label[] labels) {
        if (visited.contains(dflt)) {
            return true;
        }
        for (Label l : labels) {
            if (visited.contains(l)) {
                return true;
            }
        }
        return false;
    }

    private void pollIfSafe(int index) {
        for (Range r : ranges) {
            if (r.open && r.handlerSeenInside) {
                return;
            }
        }
        poll(handlerBackEdges != null && handlerBackEdges.get(index) ? pollInHandlerName : pollName);
    }

    private void poll(String name) {
        super.visitMethodInsn(Opcodes.INVOKESTATIC, PollSites.GROUP_OWNER, name, PollSites.POLL_DESC, false);
        polls++;
    }

    /** {@code dup; invokestatic Poll.caught(Throwable)}: the throwable on top of the stack stays. */
    private void caughtHook() {
        super.visitInsn(Opcodes.DUP);
        super.visitMethodInsn(Opcodes.INVOKESTATIC, PollSites.OWNER, PollSites.CAUGHT, PollSites.CAUGHT_DESC, false);
        caughtHooks = true;
    }
}
