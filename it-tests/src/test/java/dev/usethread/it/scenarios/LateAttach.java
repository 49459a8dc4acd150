package dev.usethread.it.scenarios;

import dev.usethread.agent.UsethreadAgent;
import dev.usethread.it.late.LateJob;

/**
 * No -javaagent: the agent is installed from code after start-up, and a class loaded before that
 * (already run, so already linked) is retransformed. This class must not touch the runtime before
 * installing, so that the runtime is loaded once, from the boot class path.
 */
public final class LateAttach {
    public static void main(String[] args) throws Exception {
        System.out.println("BEFORE " + LateJob.spin(3)); // loads, links and runs LateJob unwoven
        UsethreadAgent.install(args.length > 0 ? args[0] : "");
        System.out.println("INSTALLED " + UsethreadAgent.isInstalled());
        Class.forName("dev.usethread.it.scenarios.LateAttachJob").getMethod("run").invoke(null);
    }
}
