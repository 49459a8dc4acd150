package dev.usethread.agent.weave;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.Handle;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/** The byte patcher weaves exactly what the ASM weaver weaves (polls and hooks), over real class files. */
class BytePatcherTest {

    @Test
    void sameCodeAsTheAsmWeaverForJdkClasses() throws IOException {
        FileSystem jrt = FileSystems.getFileSystem(URI.create("jrt:/"));
        List<Path> files;
        try (Stream<Path> s = Files.walk(jrt.getPath("/modules/java.base/java/util"))) {
            files = s.filter(p -> p.toString().endsWith(".class")).sorted().limit(600).collect(Collectors.toList());
        }
        int patched = 0;
        int polls = 0;
        List<String> declined = new ArrayList<>(); // javac's classes: none (jsr, handlers and all)
        java.util.Map<String, Integer> calls = new java.util.TreeMap<>();
        for (String call : new String[] {PollSites.POLL, PollSites.POLL_IN_HANDLER, PollSites.CAUGHT,
                PollSites.THROWN}) {
            calls.put(call, 0);
        }
        for (Path f : files) {
            byte[] in = Files.readAllBytes(f);
            Weaver.Outcome asm = Weaver.weaveWithAsm(in);
            BytePatcher.Result bytes = BytePatcher.weave(in);
            if (bytes.declined != null) {
                declined.add(f + ": " + bytes.declined);
                continue;
            }
            patched++;
            assertThat(bytes.polls).as(f.toString()).isEqualTo(asm.polls());
            if (asm.bytes() == null) {
                assertThat(bytes.bytes).as(f.toString()).isNull();
                continue;
            }
            polls += bytes.polls;
            List<String> code = dump(bytes.bytes);
            assertThat(code).as(f.toString()).isEqualTo(dump(asm.bytes()));
            for (String line : code) {
                for (String call : calls.keySet()) {
                    String group = call.equals(PollSites.POLL) ? "p" : call.equals(PollSites.POLL_IN_HANDLER) ? "h" : null;
                    if (line.contains(PollSites.OWNER + "." + call + "(")
                            || group != null && line.contains(PollSites.GROUP_OWNER + "." + group)) {
                        calls.merge(call, 1, Integer::sum);
                    }
                }
            }
        }
        assertThat(declined).isEmpty();
        assertThat(patched).isEqualTo(files.size());
        assertThat(polls).isGreaterThan(1000);
        // The same code includes every kind of woven call, not only polls.
        assertThat(calls.values()).as(calls.toString()).allMatch(n -> n > 0);
    }

    /**
     * A loop at offset 0 (its label follows the entry poll), switches whose padding changes as
     * polls move them, a backward lookupswitch and a try/finally: same code as ASM, and the woven
     * class verifies and runs.
     */
    @Test
    void handcraftedEdgeCasesMatchAsmAndVerify() throws Exception {
        org.objectweb.asm.ClassWriter cw = new org.objectweb.asm.ClassWriter(org.objectweb.asm.ClassWriter.COMPUTE_FRAMES);
        cw.visit(Opcodes.V1_8, Opcodes.ACC_PUBLIC, "Edges", null, "java/lang/Object", null);
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "run", "(I)I", null, null);
        mv.visitCode();
        Label top = new Label();
        Label done = new Label();
        Label next = new Label();
        mv.visitLabel(top); // offset 0
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitJumpInsn(Opcodes.IFLE, done);
        mv.visitIincInsn(0, -1);
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        Label c0 = new Label();
        Label c1 = new Label();
        mv.visitTableSwitchInsn(0, 1, next, c0, c1); // forward only; padding moves with the polls before it
        mv.visitLabel(c0);
        mv.visitJumpInsn(Opcodes.GOTO, top);
        mv.visitLabel(c1);
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitLookupSwitchInsn(next, new int[] {5, 7}, new Label[] {top, next}); // backward
        mv.visitLabel(next);
        mv.visitJumpInsn(Opcodes.GOTO, top);
        mv.visitLabel(done);
        Label ts = new Label();
        Label te = new Label();
        Label th = new Label();
        Label after = new Label();
        mv.visitTryCatchBlock(ts, te, th, null);
        mv.visitTryCatchBlock(th, after, th, null); // self-covering, as javac emits for finally
        mv.visitLabel(ts);
        Label loop2 = new Label();
        mv.visitLabel(loop2);
        mv.visitIincInsn(0, 1);
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitIntInsn(Opcodes.BIPUSH, 3);
        mv.visitJumpInsn(Opcodes.IF_ICMPLT, loop2);
        mv.visitLabel(te);
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitInsn(Opcodes.IRETURN);
        mv.visitLabel(th);
        mv.visitVarInsn(Opcodes.ASTORE, 1);
        Label spin = new Label();
        mv.visitLabel(spin);
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitJumpInsn(Opcodes.IFLT, spin); // backward inside the self-covering range: no poll
        mv.visitVarInsn(Opcodes.ALOAD, 1);
        mv.visitLabel(after);
        mv.visitInsn(Opcodes.ATHROW);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        cw.visitEnd();
        byte[] in = cw.toByteArray();

        Weaver.Outcome asm = Weaver.weaveWithAsm(in);
        BytePatcher.Result bytes = BytePatcher.weave(in);
        assertThat(bytes.declined).isNull();
        assertThat(bytes.polls).isEqualTo(asm.polls()).isEqualTo(5); // entry, 2 gotos, lookupswitch, loop in try; none in finally
        assertThat(dump(bytes.bytes)).isEqualTo(dump(asm.bytes()));
        for (byte[] woven : List.of(bytes.bytes, asm.bytes())) {
            assertThat(runStatic("Edges", woven, 0)).isEqualTo(3);
        }
    }

    /**
     * A Java 1.4 class file (no frames) and type annotations in code (on a cast after a loop, on a
     * local variable whose range spans the loop): patched, not left to ASM; same code and
     * annotation offsets as ASM; verifies and runs.
     */
    @Test
    void oldClassFilesAndTypeAnnotationsInCodeArePatched() throws Exception {
        for (int version : new int[] {Opcodes.V1_4, Opcodes.V1_8}) {
            // (Frames computed by ASM for a 1.4 class would be a CLDC StackMap attribute, which javac never wrote.)
            org.objectweb.asm.ClassWriter cw = new org.objectweb.asm.ClassWriter(version >= Opcodes.V1_6
                    ? org.objectweb.asm.ClassWriter.COMPUTE_FRAMES : org.objectweb.asm.ClassWriter.COMPUTE_MAXS);
            cw.visit(version, Opcodes.ACC_PUBLIC, "Annotated", null, "java/lang/Object", null);
            MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "run", "(I)I", null, null);
            mv.visitCode();
            Label start = new Label();
            Label loop = new Label();
            Label end = new Label();
            mv.visitLdcInsn("x");
            mv.visitVarInsn(Opcodes.ASTORE, 1);
            mv.visitLabel(start);
            mv.visitLabel(loop);
            mv.visitIincInsn(0, 1);
            mv.visitVarInsn(Opcodes.ILOAD, 0);
            mv.visitIntInsn(Opcodes.BIPUSH, 10);
            mv.visitJumpInsn(Opcodes.IF_ICMPLT, loop); // back-edge: a poll before it
            mv.visitVarInsn(Opcodes.ALOAD, 1);
            mv.visitTypeInsn(Opcodes.CHECKCAST, "java/lang/String");
            if (version >= Opcodes.V1_8) {
                mv.visitInsnAnnotation(org.objectweb.asm.TypeReference.newTypeArgumentReference(
                        org.objectweb.asm.TypeReference.CAST, 0).getValue(), null, "LTypeUse;", true).visitEnd();
            }
            mv.visitInsn(Opcodes.POP);
            mv.visitLabel(end);
            mv.visitVarInsn(Opcodes.ILOAD, 0);
            mv.visitInsn(Opcodes.IRETURN);
            mv.visitLocalVariable("s", "Ljava/lang/Object;", null, start, end, 1);
            if (version >= Opcodes.V1_8) {
                org.objectweb.asm.AnnotationVisitor av = mv.visitLocalVariableAnnotation(
                        org.objectweb.asm.TypeReference.newTypeReference(org.objectweb.asm.TypeReference.LOCAL_VARIABLE)
                                .getValue(), null, new Label[] {start}, new Label[] {end}, new int[] {1}, "LTypeUse;", false);
                av.visit("value", 7);
                org.objectweb.asm.AnnotationVisitor names = av.visitArray("names");
                names.visit(null, "a");
                names.visitEnd(); // writes the array's length
                av.visitEnd();
            }
            mv.visitMaxs(0, 0);
            mv.visitEnd();
            cw.visitEnd();
            byte[] in = cw.toByteArray();

            Weaver.Outcome asm = Weaver.weaveWithAsm(in);
            BytePatcher.Result bytes = BytePatcher.weave(in);
            assertThat(bytes.declined).as("version %d", version).isNull();
            assertThat(bytes.polls).isEqualTo(asm.polls()).isEqualTo(2);
            List<String> dumped = dump(bytes.bytes);
            assertThat(dumped).isEqualTo(dump(asm.bytes()));
            if (version >= Opcodes.V1_8) {
                assertThat(dumped).anyMatch(line -> line.startsWith("insn-annotation"))
                        .anyMatch(line -> line.startsWith("local-annotation"));
            }
            assertThat(runStatic("Annotated", bytes.bytes, 0)).isEqualTo(10);
        }
    }

    /**
     * Exotic but valid classes, woven and unwoven, verify and return the same: a jsr/ret subroutine
     * (patched, like ASM), a backward goto_w (patched), a loop whose short back-edge no longer fits
     * once polled (woven by ASM, which widens it), and one loop class for every class-file version
     * from 45 to the newest the agent weaves (those newer than the running JVM fail the same way).
     */
    @Test
    void exoticValidClassesRunTheSameWovenAndUnwoven() throws Exception {
        byte[] jsr = loopClass("Jsr", Opcodes.V1_4, 0, true, 0);
        BytePatcher.Result patchedJsr = BytePatcher.weave(jsr);
        assertThat(patchedJsr.declined).isNull();
        assertThat(patchedJsr.polls).isEqualTo(2); // entry and the back-edge; the jsr is no loop
        assertThat(dump(patchedJsr.bytes)).isEqualTo(dump(Weaver.weaveWithAsm(jsr).bytes()));
        assertSameRun("Jsr", jsr, patchedJsr.bytes);

        byte[] far = loopClass("Far", Opcodes.V1_8, 33_000, false, 0);
        assertThat(dump(far)).anyMatch(line -> line.equals("jump 167 L0")); // read back as goto from goto_w
        BytePatcher.Result patchedFar = BytePatcher.weave(far);
        assertThat(patchedFar.declined).isNull();
        assertThat(dump(patchedFar.bytes)).isEqualTo(dump(Weaver.weaveWithAsm(far).bytes()));
        assertSameRun("Far", far, patchedFar.bytes);

        byte[] tight = loopClass("Tight", Opcodes.V1_8, 32_560, false, 40);
        BytePatcher.Result patchedTight = BytePatcher.weave(tight);
        assertThat(patchedTight.declined).isEqualTo("branch offset too large with polls");
        assertThat(patchedTight.asmMay).isTrue();
        Weaver.Outcome tightOutcome = Weaver.weave(tight);
        assertThat(tightOutcome.woven()).as(tightOutcome.skipReason()).isTrue();
        assertThat(tightOutcome.polls()).isEqualTo(42);
        assertSameRun("Tight", tight, tightOutcome.bytes());

        int newest = Runtime.version().feature() + 44;
        for (int major = 45; major <= (org.objectweb.asm.Opcodes.V25 & 0xFFFF); major++) {
            byte[] in = loopClass("V" + major, major == 45 ? Opcodes.V1_1 : major, 0, false, 0);
            Weaver.Outcome outcome = Weaver.weave(in);
            assertThat(outcome.woven()).as("version %d: %s", major, outcome.skipReason()).isTrue();
            if (major <= newest) {
                assertSameRun("V" + major, in, outcome.bytes());
            } else {
                assertThat(ClassFileFuzzTest.load(outcome.bytes())).isEqualTo(ClassFileFuzzTest.load(in))
                        .isEqualTo(UnsupportedClassVersionError.class.getName());
            }
        }
    }

    /**
     * Before version 51 the JVM rejects a switch whose padding bytes are not zero; the woven switch
     * gets new, zero padding, so such a class is left as it was (fuzzing found one that loaded only
     * woven). From 51 on the padding is free, and the class is woven.
     */
    @Test
    void nonZeroSwitchPaddingIsDeclinedBeforeVersion51() throws Exception {
        for (int version : new int[] {Opcodes.V1_5, Opcodes.V1_6, Opcodes.V1_7, Opcodes.V17}) {
            byte[] in = switchClass(version);
            int at = -1;
            for (int i = 0; i + 3 < in.length; i++) { // iload_0; tableswitch; two padding bytes (code offset 2)
                if (in[i] == 0x1A && (in[i + 1] & 0xFF) == 0xAA && in[i + 2] == 0 && in[i + 3] == 0) {
                    at = i + 3;
                }
            }
            assertThat(at).as("switch found").isPositive();
            in[at] = 1;
            BytePatcher.Result patched = BytePatcher.weave(in);
            Weaver.Outcome outcome = Weaver.weave(in);
            if (version < Opcodes.V1_7) {
                assertThat(ClassFileFuzzTest.load(in)).isEqualTo(VerifyError.class.getName());
                assertThat(patched.declined).contains("non-zero padding in the switch at offset 1");
                assertThat(outcome.woven()).isFalse();
            } else {
                assertThat(ClassFileFuzzTest.load(in)).isEqualTo("ok");
                assertThat(outcome.woven()).as(outcome.skipReason()).isTrue();
                assertThat(ClassFileFuzzTest.load(outcome.bytes())).isEqualTo("ok");
            }
        }
    }

    /** {@code static int run(int n)}: a tableswitch on n at code offset 1. */
    private static byte[] switchClass(int version) {
        org.objectweb.asm.ClassWriter cw = new org.objectweb.asm.ClassWriter(version >= Opcodes.V1_6
                ? org.objectweb.asm.ClassWriter.COMPUTE_FRAMES : org.objectweb.asm.ClassWriter.COMPUTE_MAXS);
        cw.visit(version, Opcodes.ACC_PUBLIC, "Switch", null, "java/lang/Object", null);
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "run", "(I)I", null, null);
        mv.visitCode();
        Label one = new Label();
        Label other = new Label();
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitTableSwitchInsn(1, 1, other, one);
        mv.visitLabel(one);
        mv.visitInsn(Opcodes.ICONST_1);
        mv.visitInsn(Opcodes.IRETURN);
        mv.visitLabel(other);
        mv.visitInsn(Opcodes.ICONST_0);
        mv.visitInsn(Opcodes.IRETURN);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        cw.visitEnd();
        return cw.toByteArray();
    }

    private void assertSameRun(String name, byte[] in, byte[] woven) throws Exception {
        for (int n : new int[] {0, 1, 3}) {
            assertThat(runStatic(name, woven, n)).as("%s run(%d)", name, n).isEqualTo(runStatic(name, in, n));
        }
    }

    /**
     * {@code static int run(int n)}: counts to n in a loop, the loop body {@code nops} bytes long (a
     * backward goto_w when that is more than 32 KiB), optionally calling a jsr subroutine each time,
     * and with {@code innerLoops} small loops in it that never repeat (each back-edge gets a poll).
     */
    /** Both weavers call the polls of the class's poll group, for ASCII and other names alike. */
    @Test
    void wovenPollsAreThoseOfTheClasssPollGroup() {
        for (String name : new String[] {"a/b/Plain", "a/b/Ünïcødé$Inner", "Jsr"}) {
            byte[] in = loopClass(name, Opcodes.V17, 0, false, 0);
            BytePatcher.Result patched = BytePatcher.weave(in);
            String poll = PollSites.GROUP_OWNER + ".p" + dev.usethread.internal.PollGroup.of(name.replace('/', '.')) + "()V";
            assertThat(dump(patched.bytes)).as(name).anyMatch(line -> line.contains(poll))
                    .isEqualTo(dump(Weaver.weaveWithAsm(in).bytes()));
        }
    }

    private static byte[] loopClass(String name, int version, int nops, boolean jsr, int innerLoops) {
        boolean frames = (version & 0xFFFF) >= 50;
        org.objectweb.asm.ClassWriter cw = new org.objectweb.asm.ClassWriter(frames
                ? org.objectweb.asm.ClassWriter.COMPUTE_FRAMES : org.objectweb.asm.ClassWriter.COMPUTE_MAXS);
        cw.visit(version, Opcodes.ACC_PUBLIC | Opcodes.ACC_SUPER, name, null, "java/lang/Object", null);
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "run", "(I)I", null, null);
        mv.visitCode();
        Label top = new Label();
        Label body = new Label();
        Label sub = new Label();
        mv.visitInsn(Opcodes.ICONST_0);
        mv.visitVarInsn(Opcodes.ISTORE, 1);
        mv.visitLabel(top);
        mv.visitVarInsn(Opcodes.ILOAD, 1);
        mv.visitVarInsn(Opcodes.ILOAD, 0);
        mv.visitJumpInsn(Opcodes.IF_ICMPLT, body);
        mv.visitVarInsn(Opcodes.ILOAD, 1);
        mv.visitInsn(Opcodes.IRETURN);
        mv.visitLabel(body);
        for (int i = 0; i < innerLoops; i++) {
            Label inner = new Label();
            mv.visitLabel(inner);
            mv.visitVarInsn(Opcodes.ILOAD, 1);
            mv.visitJumpInsn(Opcodes.IFLT, inner); // never taken: local 1 counts up from 0
        }
        for (int i = 0; i < nops; i++) {
            mv.visitInsn(Opcodes.NOP);
        }
        if (jsr) {
            mv.visitJumpInsn(Opcodes.JSR, sub);
        } else {
            mv.visitIincInsn(1, 1);
        }
        mv.visitJumpInsn(Opcodes.GOTO, top);
        if (jsr) {
            mv.visitLabel(sub);
            mv.visitVarInsn(Opcodes.ASTORE, 2);
            mv.visitIincInsn(1, 1);
            mv.visitVarInsn(Opcodes.RET, 2);
        }
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        cw.visitEnd();
        return cw.toByteArray();
    }

    /** Defines {@code name} from {@code classFile} in a fresh loader (verified) and calls its {@code run(int)}. */
    private Object runStatic(String name, byte[] classFile, int arg) throws Exception {
        Class<?> c = new ClassLoader(getClass().getClassLoader()) {
            Class<?> define() {
                return defineClass(name, classFile, 0, classFile.length);
            }
        }.define();
        return c.getMethod("run", int.class).invoke(null, arg);
    }

    /**
     * Same check over every class of the jars named in {@code -Dusethread.patcher.jars} (path
     * separated), when given: prints how many classes the patcher handled and how many fell back, and
     * the size of the classes it wove before and after.
     */
    @Test
    void sameCodeAsTheAsmWeaverForGivenJars() throws IOException {
        String jars = System.getProperty("usethread.patcher.jars");
        org.junit.jupiter.api.Assumptions.assumeTrue(jars != null && !jars.isEmpty());
        for (String jar : jars.split(java.io.File.pathSeparator)) {
            int classes = 0;
            int patched = 0;
            int polls = 0;
            int asmPolls = 0;
            long bytesIn = 0;
            long bytesOut = 0;
            List<String> differ = new ArrayList<>();
            try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(jar)) {
                for (java.util.zip.ZipEntry e : java.util.Collections.list(zip.entries())) {
                    if (!e.getName().endsWith(".class") || e.getName().startsWith("META-INF/")) {
                        continue;
                    }
                    classes++;
                    byte[] in = zip.getInputStream(e).readAllBytes();
                    Weaver.Outcome asm = Weaver.weaveWithAsm(in);
                    asmPolls += asm.polls();
                    BytePatcher.Result bytes = BytePatcher.weave(in);
                    if (bytes.declined != null) {
                        polls += asm.polls();
                        continue;
                    }
                    patched++;
                    polls += bytes.polls;
                    if (bytes.bytes != null) {
                        bytesIn += in.length;
                        bytesOut += bytes.bytes.length;
                    }
                    if (bytes.polls != asm.polls() || (bytes.bytes == null) != (asm.bytes() == null)
                            || (bytes.bytes != null && !dump(bytes.bytes).equals(dump(asm.bytes())))) {
                        differ.add(e.getName());
                    }
                }
            }
            System.out.println("JAR " + new java.io.File(jar).getName() + " classes=" + classes + " patched=" + patched
                    + " fellBack=" + (classes - patched) + " polls=" + polls + " asmPolls=" + asmPolls
                    + " differ=" + differ.size() + " patchedBytesIn=" + bytesIn + " patchedBytesOut=" + bytesOut);
            assertThat(differ).as(jar).isEmpty();
            assertThat(polls).isEqualTo(asmPolls);
        }
    }

    /** Every method's instructions, labels (by offset), frames, handlers, lines and locals, as text. */
    static List<String> dump(byte[] classFile) {
        List<String> out = new ArrayList<>();
        new ClassReader(classFile).accept(new ClassVisitor(Weaver.ASM_API) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String desc, String sig, String[] exc) {
                out.add("method " + access + " " + name + desc);
                return new MethodVisitor(Weaver.ASM_API) {
                    private final java.util.Map<Label, Integer> ids = new java.util.IdentityHashMap<>();

                    /** Labels are named in the order they are first seen (read-only labels have no offset). */
                    private String l(Label label) {
                        return "L" + ids.computeIfAbsent(label, k -> ids.size());
                    }

                    private String t(Object[] types, int n) {
                        StringBuilder b = new StringBuilder("[");
                        for (int i = 0; i < n; i++) {
                            Object o = types[i];
                            b.append(o instanceof Label ? l((Label) o) : String.valueOf(o)).append(',');
                        }
                        return b.append(']').toString();
                    }

                    @Override public void visitFrame(int type, int nl, Object[] locals, int ns, Object[] stack) {
                        out.add("frame " + t(locals, nl) + t(stack, ns));
                    }
                    @Override public void visitInsn(int op) { out.add("insn " + op); }
                    @Override public void visitIntInsn(int op, int v) { out.add("int " + op + " " + v); }
                    @Override public void visitVarInsn(int op, int v) { out.add("var " + op + " " + v); }
                    @Override public void visitTypeInsn(int op, String t) { out.add("type " + op + " " + t); }
                    @Override public void visitFieldInsn(int op, String o, String n, String d) {
                        out.add("field " + op + " " + o + "." + n + d);
                    }
                    @Override public void visitMethodInsn(int op, String o, String n, String d, boolean itf) {
                        out.add("call " + op + " " + o + "." + n + d + itf);
                    }
                    @Override public void visitInvokeDynamicInsn(String n, String d, Handle h, Object... args) {
                        out.add("indy " + n + d + h + java.util.Arrays.toString(args));
                    }
                    @Override public void visitJumpInsn(int op, Label label) { out.add("jump " + op + " " + l(label)); }
                    @Override public void visitLabel(Label label) { out.add("label " + l(label)); }
                    @Override public void visitLdcInsn(Object v) { out.add("ldc " + v); }
                    @Override public void visitIincInsn(int v, int inc) { out.add("iinc " + v + " " + inc); }
                    @Override public void visitTableSwitchInsn(int min, int max, Label d, Label... ls) {
                        out.add("table " + min + " " + max + " " + l(d) + " " + t(ls, ls.length));
                    }
                    @Override public void visitLookupSwitchInsn(Label d, int[] keys, Label[] ls) {
                        out.add("lookup " + l(d) + java.util.Arrays.toString(keys) + t(ls, ls.length));
                    }
                    @Override public void visitMultiANewArrayInsn(String d, int dims) { out.add("multi " + d + dims); }
                    @Override public void visitTryCatchBlock(Label s, Label e, Label h, String type) {
                        out.add("try " + l(s) + " " + l(e) + " " + l(h) + " " + type);
                    }
                    @Override public void visitLocalVariable(String n, String d, String s, Label a, Label b, int i) {
                        out.add("local " + n + d + s + l(a) + l(b) + i);
                    }
                    @Override public void visitLineNumber(int line, Label start) { out.add("line " + line + l(start)); }
                    @Override public void visitMaxs(int s, int l) { out.add("maxs " + s + " " + l); }
                    @Override public org.objectweb.asm.AnnotationVisitor visitInsnAnnotation(int ref,
                            org.objectweb.asm.TypePath path, String d, boolean visible) {
                        out.add("insn-annotation " + ref + " " + path + " " + d + " " + visible);
                        return null;
                    }
                    @Override public org.objectweb.asm.AnnotationVisitor visitLocalVariableAnnotation(int ref,
                            org.objectweb.asm.TypePath path, Label[] s, Label[] e, int[] i, String d, boolean visible) {
                        out.add("local-annotation " + ref + " " + path + " " + t(s, s.length) + t(e, e.length)
                                + java.util.Arrays.toString(i) + " " + d + " " + visible);
                        return null;
                    }
                    @Override public org.objectweb.asm.AnnotationVisitor visitTryCatchAnnotation(int ref,
                            org.objectweb.asm.TypePath path, String d, boolean visible) {
                        out.add("try-annotation " + ref + " " + path + " " + d + " " + visible);
                        return null;
                    }
                };
            }
        }, ClassReader.EXPAND_FRAMES);
        return out;
    }
}
