package dev.usethread.agent.handoff;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * The hooks land where expected in the running JDK's own classes (the it-tests run them on JDK 17
 * and 25 with bytecode verification of boot classes); a class of another shape is refused.
 */
class HandOffWeaverTest {
    private static byte[] jdkClass(String internalName) throws IOException {
        try (InputStream in = Object.class.getResourceAsStream("/" + internalName + ".class")) {
            return in == null ? null : in.readAllBytes();
        }
    }

    /** "method: hook" for every call into the runtime's Inheritance in a class file. */
    private static List<String> hookCalls(byte[] classFile) {
        return hookCalls(classFile, HandOffWeaver.HOOKS);
    }

    private static List<String> hookCalls(byte[] classFile, String hooks) {
        List<String> calls = new ArrayList<>();
        new ClassReader(classFile).accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                    String[] exceptions) {
                return new MethodVisitor(Opcodes.ASM9) {
                    @Override
                    public void visitMethodInsn(int opcode, String owner, String method, String desc, boolean itf) {
                        if (owner.equals(hooks)) {
                            calls.add(name + ": " + method);
                        }
                    }
                };
            }
        }, 0);
        return calls;
    }

    /** isTarget rejects names outside the package first: every target must lie in it. */
    @Test
    void everyTargetIsInThePackageTheQuickCheckAccepts() {
        java.util.Set<String> all = new java.util.HashSet<>(HandOffWeaver.TARGETS.keySet());
        all.addAll(HandOffWeaver.EXECUTOR_TARGETS.keySet());
        for (String target : all) {
            assertThat(target).startsWith(HandOffWeaver.PACKAGE);
            assertThat(HandOffWeaver.isTarget(target) || HandOffWeaver.isExecutorTarget(target)).as(target).isTrue();
        }
        assertThat(HandOffWeaver.isTarget("java/util/concurrent/Executors")).isFalse();
        assertThat(HandOffWeaver.isTarget("com/acme/java/util/concurrent/ForkJoinTask")).isFalse();
    }

    @Test
    void everyTargetOfThisJdkGetsItsHooks() throws IOException {
        assertThat(hookCalls(HandOffWeaver.weave("java/util/concurrent/ForkJoinTask",
                jdkClass("java/util/concurrent/ForkJoinTask"))))
                .containsExactly("doExec: beforeRun", "doExec: afterRun", "doExec: afterRun");
        assertThat(hookCalls(HandOffWeaver.weave("java/util/concurrent/ThreadPoolExecutor",
                jdkClass("java/util/concurrent/ThreadPoolExecutor"))))
                .containsExactlyInAnyOrder("execute: captureFor", "runWorker: run");
        assertThat(hookCalls(HandOffWeaver.weave("java/util/concurrent/ScheduledThreadPoolExecutor",
                jdkClass("java/util/concurrent/ScheduledThreadPoolExecutor"))))
                .containsExactly("delayedExecute: captureFor");
        assertThat(hookCalls(HandOffWeaver.weave("java/util/concurrent/ForkJoinPool$WorkQueue",
                jdkClass("java/util/concurrent/ForkJoinPool$WorkQueue"))))
                .isNotEmpty().allMatch(c -> c.endsWith(": captureFor")).contains("push: captureFor");
        byte[] perTask = jdkClass("java/util/concurrent/CompletableFuture$ThreadPerTaskExecutor");
        if (perTask != null) { // JDK 17-20 only
            assertThat(hookCalls(HandOffWeaver.weave("java/util/concurrent/CompletableFuture$ThreadPerTaskExecutor",
                    perTask))).containsExactly("execute: wrap");
        }
    }

    @Test
    void executorsIntrusiveHooksLandInFutureTaskAndCompletableFuture() throws IOException {
        String hooks = HandOffWeaver.TASK_SCOPES;
        assertThat(hookCalls(HandOffWeaver.weaveExecutor("java/util/concurrent/FutureTask",
                jdkClass("java/util/concurrent/FutureTask")), hooks))
                .containsExactlyInAnyOrder("run: call", "runAndReset: call", "cancel: cancel");
        assertThat(hookCalls(HandOffWeaver.weaveExecutor("java/util/concurrent/CompletableFuture$AsyncSupply",
                jdkClass("java/util/concurrent/CompletableFuture$AsyncSupply")), hooks)).containsExactly("run: supply");
        assertThat(hookCalls(HandOffWeaver.weaveExecutor("java/util/concurrent/CompletableFuture$AsyncRun",
                jdkClass("java/util/concurrent/CompletableFuture$AsyncRun")), hooks)).containsExactly("run: run");
        assertThat(hookCalls(HandOffWeaver.weaveExecutor("java/util/concurrent/CompletableFuture",
                jdkClass("java/util/concurrent/CompletableFuture")), hooks)).containsExactly("postComplete: completed");
        assertThat(HandOffWeaver.isExecutorTarget("java/util/concurrent/FutureTask")).isTrue();
        assertThat(HandOffWeaver.isTarget("java/util/concurrent/FutureTask")).isFalse();
    }

    @Test
    void aClassOfAnotherShapeIsRefusedNotHalfWoven() throws IOException {
        byte[] notForkJoinTask = jdkClass("java/util/concurrent/FutureTask");
        assertThatThrownBy(() -> HandOffWeaver.weave("java/util/concurrent/ForkJoinTask", notForkJoinTask))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("doExec");
        assertThatThrownBy(() -> HandOffWeaver.weave("java/util/HashMap", notForkJoinTask))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("java/util/HashMap");
    }
}
