package dev.usethread.agent.weave;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

class WeaverTest {
    /** Shapes the weaver must handle; compiled by javac. */
    @SuppressWarnings("unused")
    static class Sample {
        static int table;

        static {
            for (int i = 0; i < 3; i++) {
                table += i;
            }
        }

        int field;

        Sample(int n) {
            while (n > 0) {
                n--;
            }
        }

        static int straight(int a) {
            return a + 1;
        }

        static int loop(int n) {
            int s = 0;
            for (int i = 0; i < n; i++) {
                s += i;
            }
            return s;
        }

        static int switchLoop(int n) {
            int s = 0;
            while (true) {
                switch (n) {
                    case 0: return s;
                    case 1: s++; n = 0; break;
                    default: n--;
                }
            }
        }

        int synchronizedLoop(int n) {
            synchronized (this) {
                while (n > 0) {
                    n--;
                }
            }
            return n;
        }

        Runnable lambda() {
            return () -> {
                for (int i = 0; i < 3; i++) {
                    field++;
                }
            };
        }
    }

    /** A subclass with a covariant override, so javac emits a bridge method. */
    static class Base<T> {
        T get() {
            return null;
        }
    }

    static class Derived extends Base<String> {
        @Override
        String get() {
            return "x";
        }
    }

    @Test
    void entryPollInEveryMethodAndOneBeforeEachBackwardJumpOrSwitch() throws IOException {
        Weaver.Outcome outcome = Weaver.weave(bytes(Sample.class));
        assertThat(outcome.woven()).isTrue();
        Map<String, Integer> polls = pollsPerMethod(outcome.bytes());
        assertThat(polls.get("straight")).isEqualTo(1);
        assertThat(polls.get("loop")).isEqualTo(2);
        assertThat(polls.get("<init>")).isEqualTo(2);
        // javac emits a backward goto after "break" and another at the loop end; the switch itself jumps forward
        assertThat(polls.get("switchLoop")).isEqualTo(3);
        assertThat(polls.get("synchronizedLoop")).isEqualTo(2);
        assertThat(polls.get("<clinit>")).isZero();
        assertThat(polls.keySet().stream().filter(m -> m.startsWith("lambda$"))).hasSize(1);
        polls.forEach((m, n) -> {
            if (m.startsWith("lambda$")) {
                assertThat(n).isEqualTo(2);
            }
        });
        assertThat(outcome.polls()).isEqualTo(polls.values().stream().mapToInt(Integer::intValue).sum());
    }

    @Test
    void bridgesAreNotWoven() throws IOException {
        Weaver.Outcome outcome = Weaver.weave(bytes(Derived.class));
        Map<String, Integer> polls = pollsPerMethod(outcome.bytes());
        // get()Ljava/lang/String; gets its entry poll, the bridge get()Ljava/lang/Object; none.
        assertThat(polls.get("get()Ljava/lang/String;")).isEqualTo(1);
        assertThat(polls.get("get()Ljava/lang/Object;")).isZero();
    }

    @Test
    void noPollInsideASelfCoveringHandlerRange() {
        // start: nop; handler: nop; goto handler (inside [start,end), whose handler is inside it too);
        // end: goto start (outside the range); return
        assertThat(pollsPerMethod(Weaver.weave(handcrafted(true)).bytes()).get("m")).isEqualTo(2);
        // The same code without the handler: the inner back-edge is polled too.
        assertThat(pollsPerMethod(Weaver.weave(handcrafted(false)).bytes()).get("m")).isEqualTo(3);
    }

    @Test
    void backwardSwitchTargetsArePolled() {
        ClassWriter cw = new ClassWriter(0);
        cw.visit(Opcodes.V1_5, Opcodes.ACC_PUBLIC, "Switchy", null, "java/lang/Object", null);
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_STATIC, "m", "(I)V", null, null);
        mv.visitCode();
        Label top = new Label();
        Label out = new Label();
        mv.visitLabel(top);
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitTableSwitchInsn(0, 1, out, out, top); // case 1 jumps back
        mv.visitLabel(out);
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitLookupSwitchInsn(out, new int[] {7}, new Label[] {top}); // case 7 jumps back
        mv.visitInsn(Opcodes.RETURN);
        mv.visitMaxs(1, 1);
        mv.visitEnd();
        cw.visitEnd();
        assertThat(pollsPerMethod(Weaver.weave(cw.toByteArray()).bytes()).get("m")).isEqualTo(3);
    }

    @Test
    void unreadableClassFilesAreLeftAloneWithAReason() {
        byte[] future = handcrafted(false);
        future[6] = 0;
        future[7] = (byte) 200; // major version 200
        Weaver.Outcome outcome = Weaver.weave(future);
        assertThat(outcome.woven()).isFalse();
        assertThat(outcome.skipReason()).contains("cannot read class file");
        assertThat(Weaver.weave(new byte[] {1, 2, 3}).skipReason()).isNotNull();
    }

    @Test
    void aMethodThatOverflowsWithPollsLeavesTheClassAsItWas() {
        ClassWriter cw = new ClassWriter(0);
        cw.visit(Opcodes.V1_5, Opcodes.ACC_PUBLIC, "Big", null, "java/lang/Object", null);
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_STATIC, "m", "()V", null, null);
        mv.visitCode();
        Label top = new Label();
        mv.visitLabel(top);
        // 65,530 bytes of code; the polls (3 bytes each) push it over 65,535.
        for (int i = 0; i < 21_843; i++) {
            mv.visitInsn(Opcodes.NOP);
            mv.visitInsn(Opcodes.NOP);
            mv.visitInsn(Opcodes.NOP);
        }
        mv.visitJumpInsn(Opcodes.GOTO, top);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        cw.visitEnd();
        Weaver.Outcome outcome = Weaver.weave(cw.toByteArray());
        assertThat(outcome.woven()).isFalse();
        assertThat(outcome.skipReason()).contains("method too large").contains("m()V");
    }

    /**
     * A catch-all handler inside its own range, after a loop, that jumps back into the loop: a poll
     * on the loop would throw into the handler, which goes back to the loop, for ever. javac never
     * emits it; the class is left as it was, with the reason.
     */
    @Test
    void aHandlerInsideItsOwnRangeAfterALoopLeavesTheClassAsItWas() {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_FRAMES);
        cw.visit(Opcodes.V17, Opcodes.ACC_PUBLIC, "CatchForEver", null, "java/lang/Object", null);
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "run", "(I)I", null, null);
        mv.visitCode();
        Label start = new Label();
        Label loop = new Label();
        Label handler = new Label();
        Label end = new Label();
        mv.visitTryCatchBlock(start, end, handler, null);
        mv.visitLabel(start);
        mv.visitLabel(loop);
        mv.visitIincInsn(0, -1);
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitJumpInsn(Opcodes.IFGT, loop); // a back-edge in the range, before its handler
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitInsn(Opcodes.IRETURN);
        mv.visitLabel(handler); // inside [start, end)
        mv.visitInsn(Opcodes.POP);
        mv.visitJumpInsn(Opcodes.GOTO, loop);
        mv.visitLabel(end);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        cw.visitEnd();
        Weaver.Outcome outcome = Weaver.weave(cw.toByteArray());
        assertThat(outcome.woven()).isFalse();
        assertThat(outcome.skipReason()).contains("run(I)I").contains("catch the cancellation signal for ever");
    }

    /**
     * An attribute inside code that the JVM does not read (here one named Signature, which the JVM
     * ignores there; old Jython classes carry CLDC StackMap attributes): dropped from the woven
     * method, which loads and runs as before. ASM would have moved it to the method, where it becomes
     * the method's generic signature (or, with another length, makes the JVM reject the class).
     */
    @Test
    void anAttributeInCodeTheJvmIgnoresIsDroppedFromTheWovenMethod() throws Exception {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_FRAMES);
        cw.visit(Opcodes.V17, Opcodes.ACC_PUBLIC, "OddCode", null, "java/lang/Object", null);
        cw.newUTF8("TT;"); // the attribute's content refers to it
        int sig = cw.newUTF8("TT;");
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "run", "(I)I", null, null);
        mv.visitCode();
        Label loop = new Label();
        mv.visitLabel(loop);
        mv.visitIincInsn(0, -1);
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitJumpInsn(Opcodes.IFGT, loop);
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitInsn(Opcodes.IRETURN);
        mv.visitAttribute(new org.objectweb.asm.Attribute("Signature") {
            @Override
            public boolean isCodeAttribute() {
                return true;
            }

            @Override
            protected org.objectweb.asm.ByteVector write(ClassWriter w, byte[] code, int len, int maxStack, int maxLocals) {
                return new org.objectweb.asm.ByteVector().putShort(sig);
            }
        });
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        cw.visitEnd();
        byte[] in = cw.toByteArray();
        assertThat(ClassFileFuzzTest.load(in)).isEqualTo("ok");
        Weaver.Outcome outcome = Weaver.weave(in);
        assertThat(outcome.skipReason()).isNull();
        assertThat(outcome.woven()).isTrue();
        assertThat(outcome.polls()).isEqualTo(2); // the entry and the back-edge
        assertThat(ClassFileFuzzTest.load(outcome.bytes())).isEqualTo("ok");
        List<String> attributes = new ArrayList<>();
        String[] signature = {"unread"};
        new ClassReader(outcome.bytes()).accept(new ClassVisitor(Weaver.ASM_API) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String sig, String[] exceptions) {
                signature[0] = sig;
                return new MethodVisitor(Weaver.ASM_API) {
                    @Override
                    public void visitAttribute(org.objectweb.asm.Attribute attribute) {
                        attributes.add(attribute.type);
                    }
                };
            }
        }, 0);
        assertThat(attributes).isEmpty();
        assertThat(signature[0]).isNull();
        Class<?> woven = new ClassLoader(getClass().getClassLoader()) {
            Class<?> define() {
                return defineClass("OddCode", outcome.bytes(), 0, outcome.bytes().length);
            }
        }.define();
        assertThat(woven.getMethod("run", int.class).invoke(null, 5)).isEqualTo(0);
        assertThat(woven.getMethod("run", int.class).toGenericString()).isEqualTo("public static int OddCode.run(int)");
        // What the ASM weaver alone would do: the attribute leaves the code and changes the method.
        assertThat(Weaver.asmChangesMoreThanPolls(in)).isNotNull();
    }

    /** A Code attribute whose length says 2 GB: declined at once, without allocating for it. */
    @Test
    void aHugeAttributeLengthCostsNoMemory() throws IOException {
        byte[] in = bytes(Sample.class);
        int declined = 0;
        for (int p = 0; p + 10 < in.length; p++) { // every place that could be the Code attribute's length
            byte[] mutant = in.clone();
            mutant[p] = 0x7F;
            mutant[p + 1] = (byte) 0xFF;
            mutant[p + 2] = (byte) 0xFF;
            mutant[p + 3] = (byte) 0xF0;
            com.sun.management.ThreadMXBean threads =
                    (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            long before = threads.getThreadAllocatedBytes(Thread.currentThread().getId());
            Weaver.Outcome outcome = Weaver.weave(mutant);
            long allocated = threads.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
            assertThat(allocated).as("offset %d", p).isLessThan(64L * in.length + 64 * 1024);
            if (!outcome.woven()) {
                declined++;
            }
        }
        assertThat(declined).isGreaterThan(in.length / 2);
    }

    /**
     * A handler's frame holds the caught exception, one stack slot; with max_stack 0 HotSpot rejects the
     * class (ClassFormatError). The hooks' extra slot must not make it fit (found by ClassFileFuzzTest,
     * seed 1, mutant 7873: woven, it failed with a VerifyError instead), so it is left as it was.
     */
    @Test
    void aFrameStackOverMaxStackIsLeftAsItWas() {
        byte[] valid = handlerFrame(1);
        assertThat(ClassFileFuzzTest.load(valid)).isEqualTo("ok");
        assertThat(Weaver.weave(valid).woven()).isTrue(); // the same method otherwise gets polls and hooks
        byte[] malformed = handlerFrame(0);
        assertThat(ClassFileFuzzTest.load(malformed)).isEqualTo("java.lang.ClassFormatError");
        Weaver.Outcome outcome = Weaver.weave(malformed);
        assertThat(outcome.woven()).isFalse();
        assertThat(outcome.skipReason()).contains("a frame's stack of 1 slots exceeds max_stack 0 in run(I)I");
    }

    /** {@code static int run(int)}: a try range, a loop after it, and a handler for Throwable; max_stack as given. */
    private static byte[] handlerFrame(int maxStack) {
        ClassWriter cw = new ClassWriter(0);
        cw.visit(Opcodes.V17, Opcodes.ACC_PUBLIC, "HandlerFrame", null, "java/lang/Object", null);
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_STATIC, "run", "(I)I", null, null);
        mv.visitCode();
        Label start = new Label();
        Label end = new Label();
        Label loop = new Label();
        Label handler = new Label();
        mv.visitTryCatchBlock(start, end, handler, "java/lang/Throwable");
        mv.visitLabel(start);
        mv.visitIincInsn(0, 1);
        mv.visitLabel(end);
        mv.visitLabel(loop);
        mv.visitFrame(Opcodes.F_SAME, 0, null, 0, null);
        mv.visitIincInsn(0, -1);
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitJumpInsn(Opcodes.IFGT, loop);
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitInsn(Opcodes.IRETURN);
        mv.visitLabel(handler);
        mv.visitFrame(Opcodes.F_SAME1, 0, null, 1, new Object[] {"java/lang/Throwable"});
        mv.visitInsn(Opcodes.POP);
        mv.visitInsn(Opcodes.ICONST_0);
        mv.visitInsn(Opcodes.IRETURN);
        mv.visitMaxs(maxStack, 1);
        mv.visitEnd();
        cw.visitEnd();
        return cw.toByteArray();
    }

    private static byte[] handcrafted(boolean selfCovering) {
        ClassWriter cw = new ClassWriter(0);
        cw.visit(Opcodes.V1_5, Opcodes.ACC_PUBLIC, "Handcrafted", null, "java/lang/Object", null);
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_STATIC, "m", "()V", null, null);
        mv.visitCode();
        Label start = new Label();
        Label handler = new Label();
        Label end = new Label();
        if (selfCovering) {
            mv.visitTryCatchBlock(start, end, handler, null);
        }
        mv.visitLabel(start);
        mv.visitInsn(Opcodes.NOP);
        mv.visitLabel(handler);
        mv.visitInsn(Opcodes.NOP);
        mv.visitJumpInsn(Opcodes.GOTO, handler);
        mv.visitLabel(end);
        mv.visitJumpInsn(Opcodes.GOTO, start);
        mv.visitInsn(Opcodes.RETURN);
        mv.visitMaxs(1, 0);
        mv.visitEnd();
        cw.visitEnd();
        return cw.toByteArray();
    }

    private static byte[] bytes(Class<?> c) throws IOException {
        try (InputStream in = c.getResourceAsStream(c.getName().substring(c.getName().lastIndexOf('.') + 1) + ".class")) {
            return in.readAllBytes();
        }
    }

    /** Method name (or name+descriptor when overloaded by return type) to number of poll calls. */
    private static Map<String, Integer> pollsPerMethod(byte[] classFile) {
        Map<String, Integer> polls = new TreeMap<>();
        new ClassReader(classFile).accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String desc, String sig, String[] ex) {
                String key = name.equals("get") ? name + desc : name;
                polls.put(key, 0);
                return new MethodVisitor(Opcodes.ASM9) {
                    @Override
                    public void visitMethodInsn(int op, String owner, String n, String d, boolean itf) {
                        if (PollSites.POLL.equals(PollSites.kindOf(owner, n))) {
                            polls.merge(key, 1, Integer::sum);
                        }
                    }
                };
            }
        }, 0);
        return polls;
    }
}
