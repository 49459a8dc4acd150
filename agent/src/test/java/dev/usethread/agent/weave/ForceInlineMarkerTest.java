package dev.usethread.agent.weave;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.AnnotationVisitor;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

class ForceInlineMarkerTest {

    @Test
    void marksOnlyTheNamedMethodsAndKeepsEverythingElse() throws IOException {
        byte[] poll = pollClass();
        byte[] marked = ForceInlineMarker.mark(poll, PollSites.FORCE_INLINE);
        assertThat(marked).isNotNull();
        assertThat(annotations(marked)).containsExactlyInAnyOrder("poll " + ForceInlineMarker.FORCE_INLINE,
                "pollInHandler " + ForceInlineMarker.FORCE_INLINE, "armedPoll " + ForceInlineMarker.FORCE_INLINE,
                "armedPollInHandler " + ForceInlineMarker.FORCE_INLINE);
        assertThat(annotations(ForceInlineMarker.mark(poll, "poll")))
                .containsExactly("poll " + ForceInlineMarker.FORCE_INLINE);
        assertThat(annotations(poll)).isEmpty();
        // Same methods and code otherwise.
        assertThat(BytePatcherTest.dump(marked)).isEqualTo(BytePatcherTest.dump(poll));
        // As the agent marks Poll: the woven polls' armed checks are inlined, their slow paths never.
        byte[] both = ForceInlineMarker.mark(poll, PollSites.FORCE_INLINE, PollSites.NEVER_INLINE);
        assertThat(annotations(both)).containsExactlyInAnyOrder("poll " + ForceInlineMarker.FORCE_INLINE,
                "pollInHandler " + ForceInlineMarker.FORCE_INLINE, "armedPoll " + ForceInlineMarker.FORCE_INLINE,
                "armedPollInHandler " + ForceInlineMarker.FORCE_INLINE, "armedPollSlow " + ForceInlineMarker.DONT_INLINE,
                "armedPollInHandlerSlow " + ForceInlineMarker.DONT_INLINE);
        assertThat(BytePatcherTest.dump(both)).isEqualTo(BytePatcherTest.dump(poll));
    }

    @Test
    void leavesClassesItCannotMarkToTheCaller() throws IOException {
        assertThat(ForceInlineMarker.mark(pollClass(), "noSuchMethod")).isNull();
        assertThat(ForceInlineMarker.mark(pollClass(), "poll", "noSuchMethod")).as("every name must match").isNull();
        assertThat(ForceInlineMarker.mark(new byte[] {1, 2, 3}, "poll")).isNull();
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_FRAMES);
        cw.visit(Opcodes.V17, Opcodes.ACC_PUBLIC, "Annotated", null, "java/lang/Object", null);
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "poll", "()V", null, null);
        mv.visitAnnotation("Ljava/lang/Deprecated;", true).visitEnd();
        mv.visitCode();
        mv.visitInsn(Opcodes.RETURN);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        cw.visitEnd();
        assertThat(ForceInlineMarker.mark(cw.toByteArray(), "poll")).as("annotations already there").isNull();
    }

    private static byte[] pollClass() throws IOException {
        try (InputStream in = ForceInlineMarkerTest.class.getResourceAsStream("/dev/usethread/internal/Poll.class")) {
            return in.readAllBytes();
        }
    }

    private static List<String> annotations(byte[] classFile) {
        List<String> out = new ArrayList<>();
        new ClassReader(classFile).accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String desc, String sig, String[] exc) {
                return new MethodVisitor(Opcodes.ASM9) {
                    @Override
                    public AnnotationVisitor visitAnnotation(String type, boolean visible) {
                        out.add(name + " " + type);
                        return null;
                    }
                };
            }
        }, 0);
        return out;
    }
}
