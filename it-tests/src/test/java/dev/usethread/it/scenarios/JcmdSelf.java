package dev.usethread.it.scenarios;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;

/**
 * Loads the agent into this JVM with {@code jcmd <pid> JVMTI.agent_load <jar> <options>}, as an operator
 * would, and reports what jcmd said, whether the agent runs, and which attach files exist afterwards.
 * Arguments: the agent jar and the option string exactly as given to jcmd (quotes included).
 */
public final class JcmdSelf {
    public static void main(String[] args) throws Exception {
        String pid = String.valueOf(ProcessHandle.current().pid());
        String jcmd = Paths.get(System.getProperty("java.home"), "bin", "jcmd").toString();
        Process p = new ProcessBuilder(jcmd, pid, "JVMTI.agent_load", args[0], args[1]).redirectErrorStream(true)
                .start();
        String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        System.out.println("JCMD " + said.strip().replace('\n', '|'));
        System.out.println("INSTALLED " + (System.getProperty("usethread.agent.installed") != null));
        System.out.println("ATTACH_PID_IN_CWD " + new File(".attach_pid" + pid).exists());
        Path tmp = Paths.get(System.getProperty("java.io.tmpdir"));
        System.out.println("ATTACH_PID_IN_TMP " + Files.exists(tmp.resolve(".attach_pid" + pid)));
        System.out.println("SOCKET_IN_TMP " + Files.exists(tmp.resolve(".java_pid" + pid)));
        System.out.println("DONE");
    }
}
