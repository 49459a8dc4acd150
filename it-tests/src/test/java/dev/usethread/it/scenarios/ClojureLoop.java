package dev.usethread.it.scenarios;

import clojure.java.api.Clojure;
import clojure.lang.IFn;

/** A Clojure {@code (loop [i 0] (recur (inc i)))}, evaluated: Clojure compiles the form to a class. */
public final class ClojureLoop {
    public static void main(String[] args) {
        IFn readString = Clojure.var("clojure.core", "read-string");
        IFn eval = Clojure.var("clojure.core", "eval");
        Harness.run("clojure", () -> eval.invoke(readString.invoke("(loop [i 0] (recur (inc i)))")),
                e -> e.getClassName().contains("$eval"));
    }
}
