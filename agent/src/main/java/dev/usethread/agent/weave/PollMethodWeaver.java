package dev.usethread.agent.weave;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Adds a call to {@code Poll.poll()} at the entry of a method and before every backward jump or
 * switch. The call is a zero-argument void static call: it changes neither the operand stack nor the
 * locals, so the method's stack map frames stay valid and nothing needs recomputing.
 *
 * <p>A position covered by a "self-covering" handler (a handler that lies inside its own protected
 * range, as javac emits for {@code synchronized} and {@code finally}) gets no poll: a sticky signal
 * thrown there would be caught by the same handler forever. The class is read in one pass, so a range
 * is known to be self-covering once its handler label has been visited; positions before the handler
 * are safe because a throw there leaves for the handler, whose own back-edges are then not polled.
 */
final class PollMethodWeaver extends MethodVisitor {
    static final String POLL_OWNER = "dev/usethread/internal/Poll";
    static final String POLL_NAME = "poll";
    static final String POLL_DESC = "()V";

    private final boolean entryPoll;
    private final Set<Label> visited = new HashSet<>();
    private final List<Range> ranges = new ArrayList<>();
    int polls;

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

    PollMethodWeaver(int api, MethodVisitor next, boolean entryPoll) {
        super(api, next);
        this.entryPoll = entryPoll;
    }

    @Override
    public void visitCode() {
        super.visitCode();
        if (entryPoll) {
            // Before the first label: outside every try range, and before super() in constructors,
            // which the verifier allows for a call that does not touch 'this'.
            poll();
        }
    }

    @Override
    public void visitTryCatchBlock(Label start, Label end, Label handler, String type) {
        ranges.add(new Range(start, end, handler));
        super.visitTryCatchBlock(start, end, handler, type);
    }

    @Override
    public void visitLabel(Label label) {
        visited.add(label);
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
    public void visitJumpInsn(int opcode, Label label) {
        if (visited.contains(label) && opcode != Opcodes.JSR /* a backward jsr calls a subroutine */) {
            pollIfSafe();
        }
        super.visitJumpInsn(opcode, label);
    }

    @Override
    public void visitTableSwitchInsn(int min, int max, Label dflt, Label... labels) {
        if (anyVisited(dflt, labels)) {
            pollIfSafe();
        }
        super.visitTableSwitchInsn(min, max, dflt, labels);
    }

    @Override
    public void visitLookupSwitchInsn(Label dflt, int[] keys, Label[] labels) {
        if (anyVisited(dflt, labels)) {
            pollIfSafe();
        }
        super.visitLookupSwitchInsn(dflt, keys, labels);
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

    private void pollIfSafe() {
        for (Range r : ranges) {
            if (r.open && r.handlerSeenInside) {
                return;
            }
        }
        poll();
    }

    private void poll() {
        super.visitMethodInsn(Opcodes.INVOKESTATIC, POLL_OWNER, POLL_NAME, POLL_DESC, false);
        polls++;
    }
}
