package dev.usethread.it.scenarios;

import dev.usethread.Cancellation;

/** Starts, says whether the agent is active, ends. */
public final class Hello {
    public static void main(String[] args) {
        System.out.println("HELLO intrusive=" + Cancellation.isIntrusive());
    }
}
