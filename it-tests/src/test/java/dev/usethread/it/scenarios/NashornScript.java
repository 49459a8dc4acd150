package dev.usethread.it.scenarios;

import javax.script.ScriptEngine;
import org.openjdk.nashorn.api.scripting.NashornScriptEngineFactory;

/** A JavaScript {@code while (true) {}} in standalone Nashorn, which compiles scripts to JVM classes. */
public final class NashornScript {
    public static void main(String[] args) {
        Harness.run("nashorn", () -> {
            ScriptEngine engine = new NashornScriptEngineFactory().getScriptEngine();
            return engine.eval("while (true) {}");
        }, e -> e.getClassName().startsWith("org.openjdk.nashorn.internal.scripts."));
    }
}
