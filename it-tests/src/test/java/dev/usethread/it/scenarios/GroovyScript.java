package dev.usethread.it.scenarios;

import groovy.lang.GroovyShell;

/** A Groovy script with an endless loop; Groovy compiles it to a class at run time. */
public final class GroovyScript {
    public static void main(String[] args) {
        Harness.run("groovy", () -> new GroovyShell().evaluate("while (true) { }\n", "Spin.groovy"),
                e -> e.getClassName().equals("Spin"));
    }
}
