package dev.usethread.it.scenarios;

import dev.usethread.Cancellation;
import dev.usethread.UseThread;
import dev.usethread.agent.UsethreadAgent;

/**
 * Runtime classes are loaded before the agent is installed from code (UseThread in a signature of
 * this class, Cancellation called), as in a JUnit class that installs in @BeforeAll. The agent then
 * keeps the application loader's copy as the one copy.
 */
public final class InstallAfterRuntime {
    static UseThread<Object> inASignature(UseThread<Object> job) {
        return job;
    }

    public static void main(String[] args) throws Exception {
        System.out.println("BEFORE_INTRUSIVE " + Cancellation.isIntrusive());
        try {
            UsethreadAgent.install(args.length > 0 ? args[0] : "");
        } catch (IllegalStateException e) {
            System.out.println("CAUGHT " + e.getMessage());
            System.out.println("IS_INSTALLED " + UsethreadAgent.isInstalled());
            return;
        }
        System.out.println("INSTALLED " + UsethreadAgent.isInstalled());
        Class.forName("dev.usethread.it.scenarios.LateAttachJob").getMethod("run").invoke(null);
    }
}
