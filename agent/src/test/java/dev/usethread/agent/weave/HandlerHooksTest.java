package dev.usethread.agent.weave;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * The caught/thrown hooks, pollInHandler and the entry poll's line, woven by both weavers into
 * javac-compiled and hand-made code: same code from both, the woven classes verify (defined by a
 * non-boot loader) and run as before, and the hooks see the right throwables ({@link PollRecorder}
 * behind a stub Poll).
 */
class HandlerHooksTest {
    private static final String SAMPLES = HookSamples.class.getName();

    @BeforeEach
    void reset() {
        PollRecorder.reset();
    }

    /** The outcome of one call: its value or what it threw. */
    private static final class Call {
        final Object value;
        final Throwable thrown;

        Call(Object value, Throwable thrown) {
            this.value = value;
            this.thrown = thrown;
        }
    }

    private static Call call(Class<?> c, String method, Object... args) throws Exception {
        for (Method m : c.getDeclaredMethods()) {
            if (m.getName().equals(method)) {
                m.setAccessible(true);
                try {
                    return new Call(m.invoke(null, args), null);
                } catch (InvocationTargetException e) {
                    return new Call(null, e.getCause());
                }
            }
        }
        throw new IllegalArgumentException("no method " + method + " in " + c);
    }

    /** The class woven by the byte patcher and by ASM (same code checked), each defined in a fresh loader. */
    private static Map<String, Class<?>> wovenByBoth(String name, byte[] in) throws Exception {
        BytePatcher.Result patched = BytePatcher.weave(in);
        Weaver.Outcome asm = Weaver.weaveWithAsm(in);
        assertThat(patched.declined).as("patched").isNull();
        assertThat(asm.bytes()).as(asm.skipReason()).isNotNull();
        assertThat(BytePatcherTest.dump(patched.bytes)).isEqualTo(BytePatcherTest.dump(asm.bytes()));
        assertThat(patched.polls).isEqualTo(asm.polls());
        Map<String, Class<?>> out = new LinkedHashMap<>();
        out.put("patcher", HookedLoader.define(name, patched.bytes));
        out.put("asm", HookedLoader.define(name, asm.bytes()));
        return out;
    }

    private static Map<String, Class<?>> samples() throws Exception {
        return wovenByBoth(SAMPLES, bytes(HookSamples.class));
    }

    private static List<String> events() {
        List<String> out = new ArrayList<>();
        for (PollRecorder.Event e : PollRecorder.events) {
            out.add(e.kind + " " + e.throwable.getMessage());
        }
        return out;
    }

    private static void assertSameThrowable(Throwable expected, int... eventIndices) {
        for (int i : eventIndices) {
            assertThat(PollRecorder.events.get(i).throwable).isSameAs(expected);
        }
    }

    @Test
    void tryFinallyAndCatchRethrowReportTheThrowTheCatchAndTheRethrow() throws Exception {
        for (Map.Entry<String, Class<?>> w : samples().entrySet()) {
            Class<?> c = w.getValue();
            for (String method : new String[] {"tryFinally", "catchRethrow"}) {
                PollRecorder.reset();
                Call ok = call(c, method, false);
                assertThat(ok.value).as(w.getKey() + " " + method).isEqualTo(1);
                assertThat(PollRecorder.events).isEmpty();
                Call failed = call(c, method, true);
                assertThat(failed.thrown).isInstanceOf(IllegalStateException.class).hasMessage("body");
                assertThat(events()).as(w.getKey() + " " + method)
                        .containsExactly("thrown body", "caught body", "thrown body");
                assertSameThrowable(failed.thrown, 0, 1, 2);
            }
        }
    }

    @Test
    void aSwallowingRetryLoopKeepsTheOrdinaryPoll() throws Exception {
        for (Map.Entry<String, Class<?>> w : samples().entrySet()) {
            PollRecorder.reset();
            assertThat(call(w.getValue(), "swallowingRetry", 3).value).as(w.getKey()).isEqualTo(4);
            assertThat(events()).containsExactly("thrown attempt 1", "caught attempt 1", "thrown attempt 2",
                    "caught attempt 2", "thrown attempt 3", "caught attempt 3");
            assertThat(PollRecorder.pollsInHandler).isZero();
            assertThat(PollRecorder.polls).isGreaterThan(3); // entry, and the handler's jump back at least
        }
        assertThat(calls(woven(), "swallowingRetry", PollSites.POLL_IN_HANDLER)).isZero();
    }

    @Test
    void aLoopInAFinallyBodyPollsInHandlerOnlyInTheHandlerCopy() throws Exception {
        for (Map.Entry<String, Class<?>> w : samples().entrySet()) {
            PollRecorder.reset();
            assertThat(call(w.getValue(), "loopInFinally", 4, false).value).isEqualTo(0);
            int normalLoopPolls = PollRecorder.polls - 1; // minus the entry poll
            assertThat(normalLoopPolls).isGreaterThanOrEqualTo(4);
            assertThat(PollRecorder.pollsInHandler).isZero();
            PollRecorder.reset();
            assertThat(call(w.getValue(), "loopInFinally", 4, true).thrown).hasMessage("body");
            assertThat(PollRecorder.pollsInHandler).as(w.getKey()).isEqualTo(normalLoopPolls);
            assertThat(PollRecorder.polls).isEqualTo(1);
            assertThat(events()).containsExactly("thrown body", "caught body", "thrown body");
        }
        byte[] woven = woven();
        assertThat(calls(woven, "loopInFinally", PollSites.POLL_IN_HANDLER)).isEqualTo(1);
        assertThat(calls(woven, "loopInFinally", PollSites.POLL)).isEqualTo(2); // entry, the normal copy's loop
    }

    @Test
    void nestedTriesReportEachThrowAndCatch() throws Exception {
        for (Map.Entry<String, Class<?>> w : samples().entrySet()) {
            PollRecorder.reset();
            assertThat(call(w.getValue(), "nested").value).as(w.getKey()).isEqualTo("outer/inner");
            assertThat(events()).containsExactly("thrown inner", "caught inner", "thrown outer", "caught outer");
            assertThat(PollRecorder.events.get(2).throwable.getCause()).isSameAs(PollRecorder.events.get(0).throwable);
            assertSameThrowable(PollRecorder.events.get(0).throwable, 1);
            assertSameThrowable(PollRecorder.events.get(2).throwable, 3);
        }
    }

    @Test
    void aHandlerSharedByTwoCatchTypesGetsOneHook() throws Exception {
        assertThat(calls(woven(), "multiCatch", PollSites.CAUGHT)).isEqualTo(1);
        for (Map.Entry<String, Class<?>> w : samples().entrySet()) {
            for (int which = 0; which < 2; which++) {
                PollRecorder.reset();
                String expected = which == 0 ? "a" : "b";
                assertThat(call(w.getValue(), "multiCatch", which).value).isEqualTo(expected);
                assertThat(events()).containsExactly("thrown " + expected, "caught " + expected);
            }
        }
    }

    @Test
    void maxStackBecomesTwoWhereACaughtHookIsInsertedAndNeverGrowsOtherwise() throws Exception {
        Map<String, Integer> before = maxStacks(bytes(HookSamples.class));
        Map<String, Integer> after = maxStacks(woven());
        assertThat(before.get("swallow")).isEqualTo(1);
        assertThat(after.get("swallow")).isEqualTo(2); // the dup of the caught throwable
        assertThat(before.get("rethrow")).isEqualTo(1);
        assertThat(after.get("rethrow")).isEqualTo(1); // the thrown hook returns its argument
        // Not original + 1: that would let a method whose max_stack is one too small load (see
        // aMaxStackTooSmallStaysTooSmall).
        assertThat(before.get("multiCatch")).isGreaterThan(2);
        assertThat(after.get("multiCatch")).isEqualTo(before.get("multiCatch"));
        assertThat(after.get("firstLine")).isEqualTo(before.get("firstLine")); // no handler, no athrow
        assertThat(maxStacks(Weaver.weaveWithAsm(bytes(HookSamples.class)).bytes())).isEqualTo(after);
        for (Map.Entry<String, Class<?>> w : samples().entrySet()) {
            PollRecorder.reset();
            Throwable t = new IllegalStateException("given");
            assertThat(call(w.getValue(), "rethrow", t).thrown).isSameAs(t);
            assertThat(events()).containsExactly("thrown given");
            PollRecorder.reset();
            RuntimeException failure = new IllegalStateException("swallowed");
            assertThat(call(w.getValue(), "swallow", (Runnable) () -> {
                throw failure;
            }).value).isEqualTo(false);
            assertThat(events()).containsExactly("caught swallowed");
            assertThat(PollRecorder.events.get(0).throwable).isSameAs(failure);
        }
    }

    /**
     * A method with a handler whose max_stack is one less than its code needs (fuzzing found such
     * mutants): the JVM rejects it, and must reject it woven too, by either weaver; with the right
     * max_stack both load. For class-file versions with and without StackMapTable.
     */
    @Test
    void aMaxStackTooSmallStaysTooSmall() throws Exception {
        for (int version : new int[] {Opcodes.V1_5, Opcodes.V17}) {
            for (int maxStack : new int[] {2, 3}) {
                byte[] in = needsThreeSlots(version, maxStack);
                BytePatcher.Result patched = BytePatcher.weave(in);
                Weaver.Outcome asm = Weaver.weaveWithAsm(in);
                assertThat(patched.declined).isNull();
                assertThat(BytePatcherTest.dump(patched.bytes)).isEqualTo(BytePatcherTest.dump(asm.bytes()));
                assertThat(maxStacks(patched.bytes).get("run")).isEqualTo(maxStack);
                for (byte[] b : List.of(in, patched.bytes, asm.bytes())) {
                    String what = "version " + version + ", max_stack " + maxStack;
                    if (maxStack == 3) {
                        assertThat(call(HookedLoader.define("Tight", b), "run", 1).value).as(what).isEqualTo(3);
                    } else {
                        org.assertj.core.api.Assertions.assertThatThrownBy(() -> call(HookedLoader.define("Tight", b), "run", 1))
                                .as(what).isInstanceOf(VerifyError.class);
                    }
                }
            }
        }
    }

    /** {@code static int run(int)}: {@code 1 + (1 + x)} (three slots) in a try range with a catch-all handler. */
    private static byte[] needsThreeSlots(int version, int maxStack) {
        ClassWriter cw = new ClassWriter(version >= Opcodes.V1_6 ? ClassWriter.COMPUTE_FRAMES : 0);
        cw.visit(version, Opcodes.ACC_PUBLIC, "Tight", null, "java/lang/Object", null);
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "run", "(I)I", null, null);
        mv.visitCode();
        Label start = new Label();
        Label end = new Label();
        Label handler = new Label();
        mv.visitTryCatchBlock(start, end, handler, null);
        mv.visitLabel(start);
        mv.visitInsn(Opcodes.ICONST_1);
        mv.visitInsn(Opcodes.ICONST_1);
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitInsn(Opcodes.IADD);
        mv.visitInsn(Opcodes.IADD);
        mv.visitInsn(Opcodes.IRETURN);
        mv.visitLabel(end);
        mv.visitLabel(handler);
        mv.visitInsn(Opcodes.ATHROW);
        mv.visitMaxs(3, 1);
        mv.visitEnd();
        cw.visitEnd();
        // Computing the frames computes max_stack too: set it afterwards, in a copy.
        ClassWriter copy = new ClassWriter(0);
        new ClassReader(cw.toByteArray()).accept(new ClassVisitor(Opcodes.ASM9, copy) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String desc, String sig, String[] ex) {
                return new MethodVisitor(Opcodes.ASM9, super.visitMethod(access, name, desc, sig, ex)) {
                    @Override
                    public void visitMaxs(int ignored, int maxLocals) {
                        super.visitMaxs(maxStack, maxLocals);
                    }
                };
            }
        }, 0);
        return copy.toByteArray();
    }

    /**
     * Version 49 (no StackMapTable: HotSpot infers types, merging every way into an instruction): a
     * handler start that fall-through or a jump also reaches gets no caught hook, since what arrives
     * there need not be a Throwable (here a String), and the class must load woven as it does
     * unwoven. A handler reached only by exceptions keeps its hook. Both weavers, the same code.
     */
    @Test
    void beforeVersion50AHandlerStartReachedByNormalFlowGetsNoCaughtHook() throws Exception {
        for (boolean byJump : new boolean[] {false, true}) {
            ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
            cw.visit(Opcodes.V1_5, Opcodes.ACC_PUBLIC, "Merged", null, "java/lang/Object", null);
            MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "run",
                    "(I)Ljava/lang/Object;", null, null);
            mv.visitCode();
            Label start = new Label();
            Label end = new Label();
            Label merged = new Label();
            Label plain = new Label();
            mv.visitTryCatchBlock(start, end, merged, "java/lang/RuntimeException");
            mv.visitTryCatchBlock(start, end, plain, "java/lang/Error");
            mv.visitVarInsn(Opcodes.ILOAD, 0);
            Label normal = new Label();
            mv.visitJumpInsn(Opcodes.IFEQ, normal);
            mv.visitLabel(start);
            newThrowable(mv, "java/lang/IllegalStateException", "failed");
            mv.visitInsn(Opcodes.ATHROW);
            mv.visitLabel(end);
            mv.visitLabel(normal);
            mv.visitLdcInsn("normal");
            if (byJump) {
                mv.visitJumpInsn(Opcodes.GOTO, merged);
            }
            mv.visitLabel(merged); // a String or a RuntimeException: the inferred type is Object
            mv.visitInsn(Opcodes.ARETURN);
            mv.visitLabel(plain);
            mv.visitInsn(Opcodes.ARETURN);
            mv.visitMaxs(0, 0);
            mv.visitEnd();
            cw.visitEnd();
            byte[] in = cw.toByteArray();
            assertThat(call(HookedLoader.define("Merged", in), "run", 0).value).isEqualTo("normal");
            Map<String, Class<?>> woven = wovenByBoth("Merged", in);
            assertThat(calls(woven(in), "run", PollSites.CAUGHT)).as("only the handler reached by exceptions alone").isEqualTo(1);
            for (Map.Entry<String, Class<?>> w : woven.entrySet()) {
                PollRecorder.reset();
                assertThat(call(w.getValue(), "run", 0).value).as(w.getKey()).isEqualTo("normal");
                Object failed = call(w.getValue(), "run", 1).value;
                assertThat(failed).isInstanceOf(IllegalStateException.class);
                assertThat(events()).containsExactly("thrown failed");
            }
        }
    }

    @Test
    void synchronizedBlocksReleaseTheMonitorAndReportTheRethrow() throws Exception {
        for (Map.Entry<String, Class<?>> w : samples().entrySet()) {
            Class<?> c = w.getValue();
            java.lang.reflect.Field lock = c.getDeclaredField("LOCK");
            lock.setAccessible(true);
            PollRecorder.reset();
            assertThat(call(c, "synchronizedBlock", false).value).isEqualTo(1);
            Call failed = call(c, "synchronizedBlock", true);
            assertThat(failed.thrown).as(w.getKey()).hasMessage("in monitor");
            assertThat(Thread.holdsLock(lock.get(null))).isFalse();
            assertThat(events()).containsExactly("thrown in monitor", "caught in monitor", "thrown in monitor");
            assertSameThrowable(failed.thrown, 0, 1, 2);
        }
    }

    @Test
    void aLoopWithASwitchInACatchBodyPollsInHandler() throws Exception {
        for (Map.Entry<String, Class<?>> w : samples().entrySet()) {
            for (int k : new int[] {0, 6}) {
                PollRecorder.reset();
                assertThat(call(w.getValue(), "switchInHandler", k).value).isEqualTo(k == 0 ? 4021 : 8300);
                assertThat(PollRecorder.pollsInHandler).as(w.getKey()).isGreaterThanOrEqualTo(3);
                assertThat(PollRecorder.polls).isEqualTo(1);
                assertThat(events()).containsExactly("thrown body", "caught body");
            }
        }
    }

    /**
     * A job stopped at a method's entry poll reports the method's first line: the poll's offset (0)
     * maps to that line in the woven line table of every method, for both weavers.
     */
    @Test
    void aFrameStoppedAtTheEntryPollHasTheMethodsFirstLine() throws Exception {
        Map<String, Integer> firstLines = linesAtOffsetZero(bytes(HookSamples.class));
        assertThat(firstLines).containsKey("firstLine");
        for (Map.Entry<String, Class<?>> w : samples().entrySet()) {
            PollRecorder.reset();
            PollRecorder.stopAtPoll = true;
            Throwable stop = call(w.getValue(), "firstLine", 3).thrown;
            assertThat(stop).isInstanceOf(PollRecorder.Stop.class);
            StackTraceElement frame = null;
            for (StackTraceElement e : stop.getStackTrace()) {
                if (e.getClassName().equals(SAMPLES) && e.getMethodName().equals("firstLine")) {
                    frame = e;
                    break;
                }
            }
            assertThat(frame).as(w.getKey()).isNotNull();
            assertThat(frame.getLineNumber()).as(frame.toString()).isPositive().isEqualTo(firstLines.get("firstLine"));
        }
        BytePatcher.Result patched = BytePatcher.weave(bytes(HookSamples.class));
        assertThat(linesAtOffsetZero(patched.bytes)).isEqualTo(firstLines);
        assertThat(linesAtOffsetZero(Weaver.weaveWithAsm(bytes(HookSamples.class)).bytes())).isEqualTo(firstLines);
    }

    /**
     * Hand-made: a handler that a jump from normal code also reaches (the hook runs on every
     * arrival), and a backward tableswitch in handler-only code (pollInHandler).
     */
    @Test
    void aHandlerReachedByAJumpAndABackwardSwitchInHandlerCode() throws Exception {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_FRAMES | ClassWriter.COMPUTE_MAXS);
        cw.visit(Opcodes.V1_8, Opcodes.ACC_PUBLIC, "Handmade", null, "java/lang/Object", null);
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "jumpToHandler",
                "(I)Ljava/lang/Object;", null, null);
        mv.visitCode();
        Label start = new Label();
        Label end = new Label();
        Label handler = new Label();
        Label jump = new Label();
        mv.visitTryCatchBlock(start, end, handler, "java/lang/RuntimeException");
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitJumpInsn(Opcodes.IFEQ, jump);
        mv.visitLabel(start);
        newThrowable(mv, "java/lang/IllegalStateException", "thrown");
        mv.visitInsn(Opcodes.ATHROW);
        mv.visitLabel(end);
        mv.visitLabel(jump);
        newThrowable(mv, "java/lang/IllegalArgumentException", "jumped");
        mv.visitJumpInsn(Opcodes.GOTO, handler);
        mv.visitLabel(handler);
        mv.visitInsn(Opcodes.ARETURN);
        mv.visitMaxs(0, 0);
        mv.visitEnd();

        mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "switchLoopInHandler", "()I", null, null);
        mv.visitCode();
        start = new Label();
        end = new Label();
        handler = new Label();
        mv.visitTryCatchBlock(start, end, handler, null);
        mv.visitLabel(start);
        newThrowable(mv, "java/lang/IllegalStateException", "body");
        mv.visitInsn(Opcodes.ATHROW);
        mv.visitLabel(end);
        mv.visitLabel(handler);
        mv.visitInsn(Opcodes.POP);
        mv.visitInsn(Opcodes.ICONST_3);
        mv.visitVarInsn(Opcodes.ISTORE, 0);
        Label loop = new Label();
        Label out = new Label();
        mv.visitLabel(loop);
        mv.visitIincInsn(0, -1);
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitTableSwitchInsn(0, 0, loop, out); // 0 leaves, anything else loops: a backward default
        mv.visitLabel(out);
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitInsn(Opcodes.IRETURN);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        cw.visitEnd();

        for (Map.Entry<String, Class<?>> w : wovenByBoth("Handmade", cw.toByteArray()).entrySet()) {
            PollRecorder.reset();
            Object thrown = call(w.getValue(), "jumpToHandler", 1).value;
            assertThat(events()).as(w.getKey()).containsExactly("thrown thrown", "caught thrown");
            assertSameThrowable((Throwable) thrown, 0, 1);
            PollRecorder.reset();
            Object jumped = call(w.getValue(), "jumpToHandler", 0).value;
            assertThat(events()).containsExactly("caught jumped");
            assertSameThrowable((Throwable) jumped, 0);

            PollRecorder.reset();
            assertThat(call(w.getValue(), "switchLoopInHandler").value).isEqualTo(0);
            assertThat(PollRecorder.pollsInHandler).as(w.getKey()).isEqualTo(3);
            assertThat(PollRecorder.polls).isEqualTo(1);
        }
    }

    /**
     * A Java 1.4 class with jsr/ret (javac's old finally): both weavers hook it the same way, and the
     * output verifies (old verifier). A subroutine reached by jsr from normal code is normal code (its
     * loop keeps poll()); one reached only from a handler is handler code (pollInHandler).
     */
    @Test
    void oldClassFilesWithJsrAreHookedByBothWeavers() throws Exception {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cw.visit(Opcodes.V1_4, Opcodes.ACC_PUBLIC, "OldFinally", null, "java/lang/Object", null);
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "run", "(I)I", null, null);
        mv.visitCode();
        Label start = new Label();
        Label ok = new Label();
        Label handler = new Label();
        Label sub = new Label();
        mv.visitTryCatchBlock(start, ok, handler, null);
        mv.visitLabel(start);
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitJumpInsn(Opcodes.IFEQ, ok);
        newThrowable(mv, "java/lang/IllegalStateException", "body");
        mv.visitInsn(Opcodes.ATHROW);
        mv.visitLabel(ok);
        mv.visitJumpInsn(Opcodes.JSR, sub);
        mv.visitInsn(Opcodes.ICONST_1);
        mv.visitInsn(Opcodes.IRETURN);
        mv.visitLabel(handler);
        mv.visitVarInsn(Opcodes.ASTORE, 1);
        mv.visitJumpInsn(Opcodes.JSR, sub);
        mv.visitVarInsn(Opcodes.ALOAD, 1);
        mv.visitInsn(Opcodes.ATHROW);
        mv.visitLabel(sub);
        loopOfThreeThenRet(mv);
        mv.visitMaxs(0, 0);
        mv.visitEnd();

        // The same, but the subroutine is called only from the handler.
        mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "cleanupOnFailure", "(I)I", null, null);
        mv.visitCode();
        start = new Label();
        ok = new Label();
        handler = new Label();
        sub = new Label();
        mv.visitTryCatchBlock(start, ok, handler, null);
        mv.visitLabel(start);
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitJumpInsn(Opcodes.IFEQ, ok);
        newThrowable(mv, "java/lang/IllegalStateException", "body");
        mv.visitInsn(Opcodes.ATHROW);
        mv.visitLabel(ok);
        mv.visitInsn(Opcodes.ICONST_1);
        mv.visitInsn(Opcodes.IRETURN);
        mv.visitLabel(handler);
        mv.visitVarInsn(Opcodes.ASTORE, 1);
        mv.visitJumpInsn(Opcodes.JSR, sub);
        mv.visitVarInsn(Opcodes.ALOAD, 1);
        mv.visitInsn(Opcodes.ATHROW);
        mv.visitLabel(sub);
        loopOfThreeThenRet(mv);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        cw.visitEnd();
        byte[] in = cw.toByteArray();

        byte[] woven = BytePatcher.weave(in).bytes;
        assertThat(woven).as("jsr: woven by the patcher").isNotNull();
        assertThat(calls(woven, "run", PollSites.POLL_IN_HANDLER)).isZero();
        assertThat(calls(woven, "run", PollSites.CAUGHT)).isEqualTo(1);
        assertThat(calls(woven, "run", PollSites.THROWN)).isEqualTo(2);
        assertThat(calls(woven, "cleanupOnFailure", PollSites.POLL_IN_HANDLER)).isEqualTo(1);
        for (Map.Entry<String, Class<?>> w : wovenByBoth("OldFinally", in).entrySet()) {
            Class<?> c = w.getValue();
            PollRecorder.reset();
            assertThat(call(c, "run", 0).value).as(w.getKey()).isEqualTo(1);
            assertThat(PollRecorder.polls).isEqualTo(1 + 3);
            assertThat(PollRecorder.events).isEmpty();
            PollRecorder.reset();
            Call failed = call(c, "run", 1);
            assertThat(failed.thrown).hasMessage("body");
            assertThat(events()).containsExactly("thrown body", "caught body", "thrown body");
            assertSameThrowable(failed.thrown, 0, 1, 2);
            assertThat(PollRecorder.pollsInHandler).isZero();

            PollRecorder.reset();
            assertThat(call(c, "cleanupOnFailure", 0).value).isEqualTo(1);
            assertThat(PollRecorder.polls).isEqualTo(1);
            PollRecorder.reset();
            failed = call(c, "cleanupOnFailure", 1);
            assertThat(failed.thrown).hasMessage("body");
            assertThat(events()).containsExactly("thrown body", "caught body", "thrown body");
            assertThat(PollRecorder.pollsInHandler).as(w.getKey()).isEqualTo(3);
            assertThat(PollRecorder.polls).isEqualTo(1);
        }
    }

    /** A subroutine: stores its return address in local 2, loops three times on local 3, returns. */
    private static void loopOfThreeThenRet(MethodVisitor mv) {
        mv.visitVarInsn(Opcodes.ASTORE, 2);
        mv.visitInsn(Opcodes.ICONST_0);
        mv.visitVarInsn(Opcodes.ISTORE, 3);
        Label loop = new Label();
        mv.visitLabel(loop);
        mv.visitIincInsn(3, 1);
        mv.visitVarInsn(Opcodes.ILOAD, 3);
        mv.visitInsn(Opcodes.ICONST_3);
        mv.visitJumpInsn(Opcodes.IF_ICMPLT, loop);
        mv.visitVarInsn(Opcodes.RET, 2);
    }

    /**
     * A handler that starts with {@code new} (as the JDK's generated reflection accessors do) whose
     * object is still uninitialized at a branch: the frames there must name the {@code new}, which
     * now lies after the caught hook, not the hook.
     */
    @Test
    void aHandlerStartingWithNewKeepsItsUninitializedFramesRight() throws Exception {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_FRAMES | ClassWriter.COMPUTE_MAXS);
        cw.visit(Opcodes.V1_8, Opcodes.ACC_PUBLIC, "NewInHandler", null, "java/lang/Object", null);
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "run", "(I)Ljava/lang/Object;",
                null, null);
        mv.visitCode();
        Label start = new Label();
        Label end = new Label();
        Label handler = new Label();
        mv.visitTryCatchBlock(start, end, handler, null);
        mv.visitLabel(start);
        newThrowable(mv, "java/lang/IllegalStateException", "body");
        mv.visitInsn(Opcodes.ATHROW);
        mv.visitLabel(end);
        mv.visitLabel(handler); // stack: the throwable
        mv.visitTypeInsn(Opcodes.NEW, "java/lang/IllegalArgumentException");
        mv.visitInsn(Opcodes.DUP);
        Label zero = new Label();
        Label message = new Label();
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitJumpInsn(Opcodes.IFEQ, zero); // frames with Uninitialized(handler) at both targets
        mv.visitLdcInsn("nonzero");
        mv.visitJumpInsn(Opcodes.GOTO, message);
        mv.visitLabel(zero);
        mv.visitLdcInsn("zero");
        mv.visitLabel(message);
        mv.visitMethodInsn(Opcodes.INVOKESPECIAL, "java/lang/IllegalArgumentException", "<init>",
                "(Ljava/lang/String;)V", false);
        mv.visitInsn(Opcodes.SWAP);
        mv.visitInsn(Opcodes.POP);
        mv.visitInsn(Opcodes.ARETURN);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        cw.visitEnd();
        byte[] in = cw.toByteArray();
        assertThat(BytePatcherTest.dump(in)).anyMatch(l -> l.startsWith("frame") && l.contains(",L"));

        for (Map.Entry<String, Class<?>> w : wovenByBoth("NewInHandler", in).entrySet()) {
            for (int k = 0; k < 2; k++) {
                PollRecorder.reset();
                Object made = call(w.getValue(), "run", k).value;
                assertThat(made).as(w.getKey()).isInstanceOf(IllegalArgumentException.class);
                assertThat(((Throwable) made).getMessage()).isEqualTo(k == 0 ? "zero" : "nonzero");
                assertThat(events()).containsExactly("thrown body", "caught body");
            }
        }
    }

    private static void newThrowable(MethodVisitor mv, String type, String message) {
        mv.visitTypeInsn(Opcodes.NEW, type);
        mv.visitInsn(Opcodes.DUP);
        mv.visitLdcInsn(message);
        mv.visitMethodInsn(Opcodes.INVOKESPECIAL, type, "<init>", "(Ljava/lang/String;)V", false);
    }

    private static byte[] woven() throws IOException {
        return woven(bytes(HookSamples.class));
    }

    private static byte[] woven(byte[] in) {
        return BytePatcher.weave(in).bytes;
    }

    private static byte[] bytes(Class<?> c) throws IOException {
        try (InputStream in = c.getResourceAsStream(c.getSimpleName() + ".class")) {
            return in.readAllBytes();
        }
    }

    /** How often {@code method} calls a woven {@code name} ({@link PollSites#kindOf}). */
    private static int calls(byte[] classFile, String method, String name) {
        int[] n = {0};
        new ClassReader(classFile).accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String m, String desc, String sig, String[] ex) {
                if (!m.equals(method)) {
                    return null;
                }
                return new MethodVisitor(Opcodes.ASM9) {
                    @Override
                    public void visitMethodInsn(int op, String owner, String n2, String d, boolean itf) {
                        if (name.equals(PollSites.kindOf(owner, n2))) {
                            n[0]++;
                        }
                    }
                };
            }
        }, 0);
        return n[0];
    }

    private static Map<String, Integer> maxStacks(byte[] classFile) {
        Map<String, Integer> out = new TreeMap<>();
        new ClassReader(classFile).accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String m, String desc, String sig, String[] ex) {
                return new MethodVisitor(Opcodes.ASM9) {
                    @Override
                    public void visitMaxs(int maxStack, int maxLocals) {
                        out.put(m, maxStack);
                    }
                };
            }
        }, 0);
        return out;
    }

    /**
     * Per method, the line of the line-table entry at offset 0 (methods without one are left out),
     * read from {@link BytePatcherTest#dump}: the lines of labels that come before any instruction.
     */
    private static Map<String, Integer> linesAtOffsetZero(byte[] classFile) {
        Map<String, Integer> out = new TreeMap<>();
        String method = null;
        boolean started = false;
        java.util.Set<String> entryLabels = new java.util.HashSet<>();
        for (String line : BytePatcherTest.dump(classFile)) {
            String[] f = line.split(" ");
            if (f[0].equals("method")) {
                method = f[2].substring(0, f[2].indexOf('('));
                started = false;
                entryLabels.clear();
            } else if (f[0].equals("label")) {
                if (!started) {
                    entryLabels.add(f[1]);
                }
            } else if (f[0].equals("line")) {
                String label = f[1].substring(f[1].indexOf('L'));
                if (entryLabels.contains(label)) {
                    out.putIfAbsent(method, Integer.parseInt(f[1].substring(0, f[1].indexOf('L'))));
                }
            } else if (!f[0].equals("frame") && !f[0].equals("try") && !f[0].equals("local")) {
                started = true;
            }
        }
        return out;
    }
}
