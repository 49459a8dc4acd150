package dev.usethread.agent.handoff;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Adds the context hand-off calls of {@code dev.usethread.internal.Inheritance} to the few JDK
 * concurrency methods where a task is handed to another thread or run there. No polls: only calls
 * that capture and restore the submitting thread's cancellation scopes. Method bodies change, never
 * the class shape, so already-loaded classes can be retransformed.
 */
public final class HandOffWeaver {
    static final String HOOKS = "dev/usethread/internal/Inheritance";
    private static final String CAPTURE = "captureFor";
    private static final String OBJECT_V = "(Ljava/lang/Object;)V";
    private static final String FJ_TASK = "java/util/concurrent/ForkJoinTask";

    /** What is done to one method. */
    enum Hook {
        /** At entry: {@code captureFor(arg1)} (a submission). */
        CAPTURE_ARG,
        /** At entry: {@code arg1 = wrap(arg1)} (an executor that starts a thread per task). */
        WRAP_ARG,
        /** {@code task.run()} in a worker loop becomes {@code Inheritance.run(task)}. */
        RUN_CALL,
        /** {@code beforeRun(this)} before {@code exec()}, {@code afterRun(this)} after it and in its handler. */
        AROUND_EXEC,
        /** executors=intrusive: {@code c.call()} becomes {@code TaskScopes.call(c, this)}. */
        CALL_IN_SCOPE,
        /** executors=intrusive: {@code runner.interrupt()} becomes {@code TaskScopes.cancel(runner, this)}. */
        CANCEL_SCOPE,
        /** executors=intrusive: {@code f.get()} becomes {@code TaskScopes.supply(f, d)}, d the dependent future in local 1. */
        SUPPLY_IN_SCOPE,
        /** executors=intrusive: {@code f.run()} becomes {@code TaskScopes.run(f, d)}. */
        RUN_IN_SCOPE,
        /** executors=intrusive: at entry, {@code TaskScopes.completed(this)}. */
        COMPLETED_AT_ENTRY
    }

    static final String TASK_SCOPES = "dev/usethread/internal/TaskScopes";

    /**
     * The agent's {@code executors=intrusive}: FutureTask and CompletableFuture's async tasks run
     * their bodies in a scope that cancel(true), or completing the future first, cancels.
     */
    static final Map<String, Map<String, Hook>> EXECUTOR_TARGETS = Map.of(
            "java/util/concurrent/FutureTask", Map.of(
                    "run()V", Hook.CALL_IN_SCOPE,
                    "runAndReset()Z", Hook.CALL_IN_SCOPE,
                    "cancel(Z)Z", Hook.CANCEL_SCOPE),
            "java/util/concurrent/CompletableFuture$AsyncSupply", Map.of("run()V", Hook.SUPPLY_IN_SCOPE),
            "java/util/concurrent/CompletableFuture$AsyncRun", Map.of("run()V", Hook.RUN_IN_SCOPE),
            "java/util/concurrent/CompletableFuture", Map.of("postComplete()V", Hook.COMPLETED_AT_ENTRY));

    /** The classes (internal names) and their methods ({@code name} or {@code name+descriptor prefix}). */
    static final Map<String, Map<String, Hook>> TARGETS = Map.of(
            FJ_TASK, Map.of("doExec()", Hook.AROUND_EXEC),
            "java/util/concurrent/ForkJoinPool$WorkQueue", Map.of(
                    "push(Ljava/util/concurrent/ForkJoinTask;", Hook.CAPTURE_ARG,
                    "lockedPush(Ljava/util/concurrent/ForkJoinTask;", Hook.CAPTURE_ARG),
            "java/util/concurrent/ThreadPoolExecutor", Map.of(
                    "execute(Ljava/lang/Runnable;)V", Hook.CAPTURE_ARG,
                    "runWorker(", Hook.RUN_CALL),
            "java/util/concurrent/ScheduledThreadPoolExecutor", Map.of(
                    "delayedExecute(Ljava/util/concurrent/RunnableScheduledFuture;)V", Hook.CAPTURE_ARG),
            // JDK 17-20 on machines with fewer than 3 cores: CompletableFuture's default executor.
            "java/util/concurrent/CompletableFuture$ThreadPerTaskExecutor", Map.of(
                    "execute(Ljava/lang/Runnable;)V", Hook.WRAP_ARG));

    private HandOffWeaver() {
    }

    /**
     * True for the JDK classes whose methods this weaver hooks.
     *
     * @param internalName a class's internal name, such as {@code java/util/concurrent/ForkJoinTask}
     * @return whether the class is a hand-off target
     */
    public static boolean isTarget(String internalName) {
        return internalName.startsWith(PACKAGE) && TARGETS.containsKey(internalName);
    }

    /**
     * The package of every target: a name outside it is rejected without hashing it, for each class
     * the JVM loads while the application starts.
     */
    static final String PACKAGE = "java/util/concurrent/";

    /**
     * Whether {@code executors=intrusive} weaves this class.
     *
     * @param internalName a class's internal name
     * @return true for the executor classes that option instruments
     */
    public static boolean isExecutorTarget(String internalName) {
        return internalName.startsWith(PACKAGE) && EXECUTOR_TARGETS.containsKey(internalName);
    }

    /**
     * The woven class, or throws {@link IllegalStateException} saying why the class does not look as expected.
     *
     * @param internalName the class's internal name; must be a target
     * @param classFile the class file as loaded
     * @return the woven class file
     */
    public static byte[] weave(String internalName, byte[] classFile) {
        return weave(internalName, classFile, TARGETS);
    }

    /**
     * Weaves a class of {@link #EXECUTOR_TARGETS} (executors=intrusive).
     *
     * @param internalName the class's internal name; must be an executor target
     * @param classFile the class file as loaded
     * @return the woven class file
     */
    public static byte[] weaveExecutor(String internalName, byte[] classFile) {
        return weave(internalName, classFile, EXECUTOR_TARGETS);
    }

    private static byte[] weave(String internalName, byte[] classFile, Map<String, Map<String, Hook>> targets) {
        Map<String, Hook> methods = targets.get(internalName);
        if (methods == null) {
            throw new IllegalArgumentException("not a hand-off target: " + internalName);
        }
        ClassReader reader = new ClassReader(classFile);
        ClassWriter writer = new ClassWriter(reader, 0);
        Set<String> done = new HashSet<>();
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                    String[] exceptions) {
                MethodVisitor next = super.visitMethod(access, name, descriptor, signature, exceptions);
                Hook hook = hookFor(methods, name + descriptor);
                if (hook == null || (access & Opcodes.ACC_ABSTRACT) != 0) {
                    return next;
                }
                return new HookedMethod(next, hook, name + descriptor, done);
            }
        }, 0);
        if (done.isEmpty()) {
            throw new IllegalStateException("none of " + methods.keySet() + " found");
        }
        return writer.toByteArray();
    }

    private static Hook hookFor(Map<String, Hook> methods, String nameAndDescriptor) {
        for (Map.Entry<String, Hook> e : methods.entrySet()) {
            if (nameAndDescriptor.startsWith(e.getKey())) {
                return e.getValue();
            }
        }
        return null;
    }

    private static final class HookedMethod extends MethodVisitor {
        private final Hook hook;
        private final String method;
        private final Set<String> done;
        private final Set<Label> handlers = new HashSet<>();
        private int rewritten;
        private boolean afterRunPending;

        HookedMethod(MethodVisitor next, Hook hook, String method, Set<String> done) {
            super(Opcodes.ASM9, next);
            this.hook = hook;
            this.method = method;
            this.done = done;
        }

        @Override
        public void visitCode() {
            super.visitCode();
            if (hook == Hook.CAPTURE_ARG) {
                super.visitVarInsn(Opcodes.ALOAD, 1);
                super.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, CAPTURE, OBJECT_V, false);
                rewritten++;
            } else if (hook == Hook.WRAP_ARG) {
                super.visitVarInsn(Opcodes.ALOAD, 1);
                super.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "wrap",
                        "(Ljava/lang/Runnable;)Ljava/lang/Runnable;", false);
                super.visitVarInsn(Opcodes.ASTORE, 1);
                rewritten++;
            } else if (hook == Hook.COMPLETED_AT_ENTRY) {
                super.visitVarInsn(Opcodes.ALOAD, 0);
                super.visitMethodInsn(Opcodes.INVOKESTATIC, TASK_SCOPES, "completed", OBJECT_V, false);
                rewritten++;
            }
        }

        /** Replaces the call {@code owner.name descriptor} by {@code TaskScopes.hook(receiver, local)}; true if it did. */
        private boolean replaced(int opcode, String owner, String name, String descriptor, Hook kind, int wantOpcode,
                String wantOwner, String wantName, String wantDescriptor, int local, String hookName, String hookDescriptor) {
            if (hook != kind || opcode != wantOpcode || !owner.equals(wantOwner) || !name.equals(wantName)
                    || !descriptor.equals(wantDescriptor)) {
                return false;
            }
            super.visitVarInsn(Opcodes.ALOAD, local);
            super.visitMethodInsn(Opcodes.INVOKESTATIC, TASK_SCOPES, hookName, hookDescriptor, false);
            rewritten++;
            return true;
        }

        @Override
        public void visitTryCatchBlock(Label start, Label end, Label handler, String type) {
            handlers.add(handler);
            super.visitTryCatchBlock(start, end, handler, type);
        }

        @Override
        public void visitLabel(Label label) {
            super.visitLabel(label);
            if (hook == Hook.AROUND_EXEC && handlers.contains(label)) {
                afterRunPending = true; // after the handler's frame, before its first instruction
            }
        }

        /** Emits {@code afterRun(this)} at the start of a handler. */
        private void beforeInstruction() {
            if (afterRunPending) {
                afterRunPending = false;
                super.visitVarInsn(Opcodes.ALOAD, 0);
                super.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "afterRun", OBJECT_V, false);
            }
        }

        @Override
        public void visitMethodInsn(int opcode, String owner, String name, String descriptor, boolean isInterface) {
            beforeInstruction();
            if (replaced(opcode, owner, name, descriptor, Hook.CALL_IN_SCOPE, Opcodes.INVOKEINTERFACE,
                    "java/util/concurrent/Callable", "call", "()Ljava/lang/Object;", 0, "call",
                    "(Ljava/util/concurrent/Callable;Ljava/lang/Object;)Ljava/lang/Object;")
                    || replaced(opcode, owner, name, descriptor, Hook.CANCEL_SCOPE, Opcodes.INVOKEVIRTUAL,
                    "java/lang/Thread", "interrupt", "()V", 0, "cancel", "(Ljava/lang/Thread;Ljava/lang/Object;)V")
                    || replaced(opcode, owner, name, descriptor, Hook.SUPPLY_IN_SCOPE, Opcodes.INVOKEINTERFACE,
                    "java/util/function/Supplier", "get", "()Ljava/lang/Object;", 1, "supply",
                    "(Ljava/util/function/Supplier;Ljava/lang/Object;)Ljava/lang/Object;")
                    || replaced(opcode, owner, name, descriptor, Hook.RUN_IN_SCOPE, Opcodes.INVOKEINTERFACE,
                    "java/lang/Runnable", "run", "()V", 1, "run", "(Ljava/lang/Runnable;Ljava/lang/Object;)V")) {
                return;
            }
            if (hook == Hook.RUN_CALL && opcode == Opcodes.INVOKEINTERFACE && owner.equals("java/lang/Runnable")
                    && name.equals("run") && descriptor.equals("()V")) {
                super.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "run", "(Ljava/lang/Runnable;)V", false);
                rewritten++;
                return;
            }
            if (hook == Hook.AROUND_EXEC && opcode == Opcodes.INVOKEVIRTUAL && owner.equals(FJ_TASK)
                    && name.equals("exec") && descriptor.equals("()Z")) {
                super.visitVarInsn(Opcodes.ALOAD, 0);
                super.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "beforeRun", OBJECT_V, false);
                super.visitMethodInsn(opcode, owner, name, descriptor, isInterface);
                super.visitVarInsn(Opcodes.ALOAD, 0);
                super.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "afterRun", OBJECT_V, false);
                rewritten++;
                return;
            }
            super.visitMethodInsn(opcode, owner, name, descriptor, isInterface);
        }

        @Override
        public void visitInsn(int opcode) {
            beforeInstruction();
            super.visitInsn(opcode);
        }

        @Override
        public void visitIntInsn(int opcode, int operand) {
            beforeInstruction();
            super.visitIntInsn(opcode, operand);
        }

        @Override
        public void visitVarInsn(int opcode, int varIndex) {
            beforeInstruction();
            super.visitVarInsn(opcode, varIndex);
        }

        @Override
        public void visitTypeInsn(int opcode, String type) {
            beforeInstruction();
            super.visitTypeInsn(opcode, type);
        }

        @Override
        public void visitFieldInsn(int opcode, String owner, String name, String descriptor) {
            beforeInstruction();
            super.visitFieldInsn(opcode, owner, name, descriptor);
        }

        @Override
        public void visitInvokeDynamicInsn(String name, String descriptor, org.objectweb.asm.Handle bsm,
                Object... bsmArgs) {
            beforeInstruction();
            super.visitInvokeDynamicInsn(name, descriptor, bsm, bsmArgs);
        }

        @Override
        public void visitJumpInsn(int opcode, Label label) {
            beforeInstruction();
            super.visitJumpInsn(opcode, label);
        }

        @Override
        public void visitLdcInsn(Object value) {
            beforeInstruction();
            super.visitLdcInsn(value);
        }

        @Override
        public void visitIincInsn(int varIndex, int increment) {
            beforeInstruction();
            super.visitIincInsn(varIndex, increment);
        }

        @Override
        public void visitTableSwitchInsn(int min, int max, Label dflt, Label... labels) {
            beforeInstruction();
            super.visitTableSwitchInsn(min, max, dflt, labels);
        }

        @Override
        public void visitLookupSwitchInsn(Label dflt, int[] keys, Label[] labels) {
            beforeInstruction();
            super.visitLookupSwitchInsn(dflt, keys, labels);
        }

        @Override
        public void visitMultiANewArrayInsn(String descriptor, int numDimensions) {
            beforeInstruction();
            super.visitMultiANewArrayInsn(descriptor, numDimensions);
        }

        @Override
        public void visitMaxs(int maxStack, int maxLocals) {
            // Each hook pushes at most one value above what the method had at that point.
            super.visitMaxs(maxStack + 1, maxLocals);
        }

        @Override
        public void visitEnd() {
            super.visitEnd();
            boolean expected = hook == Hook.AROUND_EXEC ? rewritten == 1 && !handlers.isEmpty() : rewritten == 1;
            if (!expected) {
                throw new IllegalStateException(method + ": expected one " + hook + " site, found " + rewritten
                        + (hook == Hook.AROUND_EXEC ? " and " + handlers.size() + " handlers" : ""));
            }
            done.add(method);
        }
    }
}
