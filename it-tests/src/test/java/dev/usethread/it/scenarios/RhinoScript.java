package dev.usethread.it.scenarios;

import dev.usethread.CancelledSignal;
import org.mozilla.javascript.Context;
import org.mozilla.javascript.Scriptable;

/** A JavaScript {@code while (true) {}} in Rhino, interpreted or compiled to JVM classes at run time. */
public final class RhinoScript {
    public static void main(String[] args) {
        boolean compiled = args[0].equals("compiled");
        Harness.run("rhino-" + args[0], () -> {
            Context cx = Context.enter();
            try {
                cx.setOptimizationLevel(compiled ? 9 : -1);
                Scriptable scope = cx.initStandardObjects();
                // An empty loop: in compiled mode only the generated class's own back-edge can poll.
                return cx.evaluateString(scope, "while (true) {}", "spin.js", 1, null);
            } catch (CancelledSignal s) {
                if (Harness.firstSignal == null) {
                    Harness.firstSignal = s;
                }
                throw s;
            } finally {
                Context.exit();
            }
        }, compiled
                ? e -> e.getMethodName().equals("_c_script_0") || e.getClassName().startsWith("org.mozilla.javascript.gen.")
                : Harness.inMethod("org.mozilla.javascript.Interpreter", "interpretLoop"));
    }
}
