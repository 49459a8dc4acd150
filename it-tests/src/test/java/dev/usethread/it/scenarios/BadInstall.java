package dev.usethread.it.scenarios;

import dev.usethread.agent.UsethreadAgent;

/** Installing from code with a bad option: the caller gets the message; the application lives on. */
public final class BadInstall {
    public static void main(String[] args) {
        try {
            UsethreadAgent.install(args[0]);
            System.out.println("INSTALLED");
        } catch (IllegalArgumentException e) {
            System.out.println("CAUGHT " + e.getMessage().lines().findFirst().orElse(""));
        }
        System.out.println("IS_INSTALLED " + UsethreadAgent.isInstalled());
    }
}
