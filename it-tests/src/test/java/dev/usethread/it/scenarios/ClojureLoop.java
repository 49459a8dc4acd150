package dev.usethread.it.scenarios;

import clojure.java.api.Clojure;
import clojure.lang.IFn;

/**
 * A Clojure {@code (loop [i 0] (recur (inc i)))} in a function: Clojure compiles the form to classes
 * (woven as they load) before the job starts, and the job calls the function. Compiled inside the job,
 * a cancel could land in Clojure's compiler, whose handlers do not always keep the signal as a cause,
 * and the scenario could not tell where it was thrown.
 */
public final class ClojureLoop {
    public static void main(String[] args) {
        IFn readString = Clojure.var("clojure.core", "read-string");
        IFn eval = Clojure.var("clojure.core", "eval");
        IFn loop = (IFn) eval.invoke(readString.invoke("(fn [] (loop [i 0] (recur (inc i))))"));
        Harness.run("clojure", () -> loop.invoke(), e -> e.getClassName().contains("$fn__"));
    }
}
