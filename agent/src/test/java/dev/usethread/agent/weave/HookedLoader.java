package dev.usethread.agent.weave;

import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Defines one woven class (verified, as every class of a non-boot loader) and, for it, stubs of
 * {@code dev.usethread.internal.Poll} and {@code GroupPolls} whose methods call {@link PollRecorder}.
 */
final class HookedLoader extends ClassLoader {
    private final String name;
    private final byte[] classFile;

    HookedLoader(String name, byte[] classFile) {
        super(HookedLoader.class.getClassLoader());
        this.name = name;
        this.classFile = classFile;
    }

    static Class<?> define(String name, byte[] classFile) throws ClassNotFoundException {
        return new HookedLoader(name, classFile).loadClass(name);
    }

    @Override
    protected synchronized Class<?> loadClass(String n, boolean resolve) throws ClassNotFoundException {
        Class<?> c = findLoadedClass(n);
        if (c != null) {
            return c;
        }
        if (n.equals(name)) {
            return defineClass(n, classFile, 0, classFile.length);
        }
        if (n.equals(PollSites.OWNER.replace('/', '.'))) {
            byte[] stub = pollStub();
            return defineClass(n, stub, 0, stub.length);
        }
        if (n.equals(PollSites.GROUP_OWNER.replace('/', '.'))) {
            byte[] stub = groupPollsStub();
            return defineClass(n, stub, 0, stub.length);
        }
        return super.loadClass(n, resolve);
    }

    /** GroupPolls with every {@code pN}/{@code hN} recording a poll/pollInHandler. */
    private static byte[] groupPollsStub() {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cw.visit(Opcodes.V17, Opcodes.ACC_PUBLIC | Opcodes.ACC_FINAL, PollSites.GROUP_OWNER, null, "java/lang/Object",
                null);
        String recorder = PollRecorder.class.getName().replace('.', '/');
        for (String name : PollSites.GROUP_POLLS) {
            MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, name, PollSites.POLL_DESC, null,
                    null);
            mv.visitCode();
            mv.visitMethodInsn(Opcodes.INVOKESTATIC, recorder, PollSites.kindOf(PollSites.GROUP_OWNER, name),
                    PollSites.POLL_DESC, false);
            mv.visitInsn(Opcodes.RETURN);
            mv.visitMaxs(0, 0);
            mv.visitEnd();
        }
        cw.visitEnd();
        return cw.toByteArray();
    }

    private static byte[] pollStub() {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cw.visit(Opcodes.V17, Opcodes.ACC_PUBLIC | Opcodes.ACC_FINAL, PollSites.OWNER, null, "java/lang/Object", null);
        String recorder = PollRecorder.class.getName().replace('.', '/');
        for (String[] m : new String[][] {{PollSites.POLL, PollSites.POLL_DESC},
                {PollSites.POLL_IN_HANDLER, PollSites.POLL_DESC}, {PollSites.CAUGHT, PollSites.CAUGHT_DESC},
                {PollSites.THROWN, PollSites.THROWN_DESC}}) {
            MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, m[0], m[1], null, null);
            mv.visitCode();
            if (!m[1].equals(PollSites.POLL_DESC)) {
                mv.visitVarInsn(Opcodes.ALOAD, 0);
            }
            mv.visitMethodInsn(Opcodes.INVOKESTATIC, recorder, m[0], m[1], false);
            mv.visitInsn(m[1].equals(PollSites.THROWN_DESC) ? Opcodes.ARETURN : Opcodes.RETURN);
            mv.visitMaxs(0, 0);
            mv.visitEnd();
        }
        cw.visitEnd();
        return cw.toByteArray();
    }
}
