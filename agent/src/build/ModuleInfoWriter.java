import java.io.IOException;
import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.ModuleVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Build step (run after shading, see agent/pom.xml): writes module-info.class into the agent jar, so
 * that on the module path it is module dev.usethread.agent and does not clash with the runtime module.
 *
 * <p>The jar carries the runtime's packages (dev.usethread, dev.usethread.internal) for the boot class
 * path, where no module descriptor counts. On the module path, an automatic module would own every
 * package in the jar, and two modules owning dev.usethread stop the JVM at start-up. A ModulePackages
 * attribute (which javac does not write, hence ASM here) lists the module's packages: all but the
 * runtime's. The runtime is read from its own module, dev.usethread.runtime, when that is resolved.
 *
 * <p>Usage: java -cp asm.jar ModuleInfoWriter.java usethread-agent.jar version
 */
public final class ModuleInfoWriter {
    public static void main(String[] args) throws IOException {
        Path jar = Paths.get(args[0]).toAbsolutePath();
        try (FileSystem zip = FileSystems.newFileSystem(URI.create("jar:" + jar.toUri()), Map.of())) {
            TreeSet<String> packages = new TreeSet<>();
            try (Stream<Path> files = Files.walk(zip.getPath("/"))) {
                files.map(p -> p.toString().substring(1))
                        .filter(n -> n.endsWith(".class") && n.contains("/") && !n.startsWith("META-INF/"))
                        .map(n -> n.substring(0, n.lastIndexOf('/')))
                        .filter(p -> !p.equals("dev/usethread") && !p.equals("dev/usethread/internal"))
                        .forEach(packages::add);
            }
            ClassWriter cw = new ClassWriter(0);
            cw.visit(Opcodes.V9, Opcodes.ACC_MODULE, "module-info", null, null, null);
            ModuleVisitor m = cw.visitModule("dev.usethread.agent", 0, args.length > 1 ? args[1] : null);
            m.visitRequire("java.base", Opcodes.ACC_MANDATED, null);
            m.visitRequire("java.instrument", 0, null);
            m.visitRequire("jdk.jfr", Opcodes.ACC_STATIC_PHASE, null); // weave events, only when JFR is there
            // install() attaches through com.sun.tools.attach (reflectively, in the shaded ByteBuddy).
            m.visitRequire("jdk.attach", 0, null);
            // AgentMain links to the runtime module when the application has it on the module path.
            m.visitRequire("dev.usethread.runtime", Opcodes.ACC_STATIC_PHASE, null);
            m.visitExport("dev/usethread/agent", 0);
            packages.forEach(m::visitPackage);
            m.visitEnd();
            cw.visitEnd();
            Files.write(zip.getPath("module-info.class"), cw.toByteArray());
            System.out.println("module-info.class: module dev.usethread.agent, packages " + packages);
        }
    }
}
