package dev.usethread.internal;

import java.util.function.Consumer;

/**
 * Says, in one sentence for an error message, why a thread whose cancellation was requested has
 * not stopped: the frame and package it is in, and what would stop it ({@code jdk=<package>},
 * {@code CancelEvent.onCancel(...)}, the agent). Used by {@code UseThread.close()},
 * {@code UseThread.await(...)} and {@code Cancellation.withTimeout}. A diagnosis from one look at
 * the thread's stack: it names the likeliest reason, not a proof.
 */
public final class StuckThreads {
    private static final String ON_CANCEL = "CancelEvent.onCancel(...)";
    private static final ThreadLocal<Consumer<String>> DEADLINE_REPORTER = new ThreadLocal<>();

    private StuckThreads() {
    }

    /**
     * Where a {@code withTimeout} entered on this thread reports, once, that its body outlived the
     * deadline (null: {@code System.Logger} "dev.usethread"). For usethread-junit, which writes it
     * to standard error naming the test. Returns the previous reporter, to restore afterwards.
     */
    public static Consumer<String> reportDeadlinesTo(Consumer<String> reporter) {
        Consumer<String> previous = DEADLINE_REPORTER.get();
        if (reporter == null) {
            DEADLINE_REPORTER.remove();
        } else {
            DEADLINE_REPORTER.set(reporter);
        }
        return previous;
    }

    /** This thread's reporter for deadlines whose body did not stop, or null; see {@link #reportDeadlinesTo}. */
    public static Consumer<String> deadlineReporter() {
        return DEADLINE_REPORTER.get();
    }

    /** Why {@code thread}, running an intrusive run or deadline, has not stopped. */
    public static String explain(Thread thread) {
        return explain(thread, true);
    }

    /** Why {@code thread} has not stopped; {@code intrusive} is false for options().intrusive(false) jobs. */
    public static String explain(Thread thread, boolean intrusive) {
        Thread.State state = thread.getState();
        StackTraceElement[] stack = thread.getStackTrace();
        if (!thread.isAlive()) {
            return "thread " + thread.getName() + " has ended";
        }
        return explain(thread.getName(), state, stack, intrusive, AgentStatus.isInstalled());
    }

    static String explain(String name, Thread.State state, StackTraceElement[] stack, boolean intrusive,
            boolean agentInstalled) {
        String who = "thread " + name;
        int top = 0;
        while (top < stack.length && stack[top].getClassName().startsWith("dev.usethread.internal.")) {
            top++;
        }
        if (top == stack.length) {
            return who + " (" + state + ") shows no Java frames to explain why it has not stopped";
        }
        StackTraceElement at = stack[top];
        int jdkEnd = top; // the JDK frames on top of the stack are stack[top..jdkEnd)
        while (jdkEnd < stack.length && isJdk(stack[jdkEnd])) {
            jdkEnd++;
        }
        StackTraceElement caller = jdkEnd > top && jdkEnd < stack.length ? stack[jdkEnd] : null;
        String calledFrom = caller == null ? "" : ", called from " + frame(caller);

        if (state == Thread.State.BLOCKED) {
            return who + " is blocked entering a synchronized block or method in " + where(at) + calledFrom
                    + ", which ignores interrupts: make the thread that holds the monitor leave it (from "
                    + ON_CANCEL + ")";
        }
        for (int i = top; i < jdkEnd; i++) {
            String fix = uninterruptible(stack[i]);
            if (fix != null) {
                return who + " is blocked in " + where(stack[i]) + calledFrom + ", " + fix;
            }
        }
        if (!intrusive) {
            return who + " is in " + where(at) + "; its job is not intrusive (options().intrusive(false)): it is"
                    + " not interrupted and polls do not throw, so only its CancelEvent, Cancellation.checkpoint()"
                    + " or emit stop it";
        }
        for (int i = top; i < stack.length; i++) {
            if (stack[i].getMethodName().equals("<clinit>")) {
                return who + " is in " + where(at) + " inside the static initializer of " + stack[i].getClassName()
                        + ", where polls never throw (a signal would leave the class unusable): it stops at the"
                        + " first poll after the initializer";
            }
        }
        String notInstalled = "the usethread agent is not installed (Cancellation.isIntrusive() is false)";
        if (jdkEnd > top) {
            for (int i = top; i < jdkEnd; i++) {
                String pkg = WeavableJdkPackages.allowing(packageOf(stack[i]));
                if (pkg != null) {
                    String running = stack[i] == at ? where(at) : where(stack[i]) + " (now in " + frame(at) + ")";
                    return who + " is running " + running + calledFrom + ": JDK code that the agent weaves only when opted in, so"
                            + " no poll reaches it; " + (agentInstalled
                                    ? "add jdk=" + pkg + " to the agent's options"
                                    : notInstalled + ": start the JVM with -javaagent:usethread-agent.jar=jdk=" + pkg);
                }
            }
            String verb = state == Thread.State.RUNNABLE ? " is running " : " is " + state + " in ";
            return who + verb + where(at) + calledFrom + ": JDK code that the agent cannot weave"
                    + (state == Thread.State.RUNNABLE ? "" : " and that did not end on the cancellation's interrupt")
                    + ", so no poll reaches it; it stops once the call returns to woven code"
                    + (agentInstalled ? "" : ", but " + notInstalled + ", so only Cancellation.checkpoint() stops it"
                            + " there");
        }
        if (at.isNativeMethod()) {
            return who + " is in native method " + where(at) + ", which is not woven: it stops once the call returns";
        }
        if (!agentInstalled) {
            return who + " is running " + where(at) + ", but " + notInstalled + ", so code that never calls"
                    + " Cancellation.checkpoint() cannot be stopped: start the JVM with -javaagent:usethread-agent.jar,"
                    + " or call Cancellation.checkpoint() in that loop";
        }
        return who + " is running " + where(at) + ", where no woven poll has stopped it: is the class excluded by"
                + " include=/exclude=, left unwoven (the agent says so on standard error), or was that method already"
                + " running when the agent wove its class?";
    }

    /** The fix for a JDK wait that ignores interrupts, or null if {@code f} is not one. */
    private static String uninterruptible(StackTraceElement f) {
        String c = f.getClassName();
        String m = f.getMethodName();
        String ignores = "which ignores interrupts: ";
        if (c.equals("java.util.concurrent.CompletableFuture") && m.equals("join")) {
            return ignores + "complete or cancel the future from " + ON_CANCEL + ", or wait with get()";
        }
        if (c.equals("java.util.concurrent.Phaser") && m.equals("awaitAdvance")) {
            return ignores + "arrive at the phaser or forceTermination() it from " + ON_CANCEL
                    + ", or use awaitAdvanceInterruptibly(...)";
        }
        if (c.startsWith("java.util.concurrent.locks.") && m.equals("awaitUninterruptibly")) {
            return ignores + "signal the condition from " + ON_CANCEL + ", or use await()";
        }
        if (c.startsWith("java.util.concurrent.locks.") && m.equals("lock")) {
            return ignores + "use lockInterruptibly(), or make the lock's holder unlock it (from " + ON_CANCEL + ")";
        }
        boolean socket = c.equals("sun.nio.ch.NioSocketImpl") || c.startsWith("java.net.Socket")
                || c.equals("java.net.ServerSocket") || c.equals("java.net.PlainSocketImpl");
        if (socket && (m.startsWith("read") || m.startsWith("accept") || m.equals("socketRead0"))) {
            return "a socket read or accept, which ignores interrupts on platform threads: close the socket from "
                    + ON_CANCEL;
        }
        boolean file = c.equals("java.io.FileInputStream") || c.equals("java.io.FileOutputStream")
                || c.equals("java.io.RandomAccessFile");
        if (file && (m.startsWith("read") || m.startsWith("write"))) {
            return "file or pipe I/O (also standard input and a process's output), " + ignores
                    + "close its source from " + ON_CANCEL + " (for a process: destroy() it)";
        }
        return null;
    }

    private static boolean isJdk(StackTraceElement f) {
        String module = f.getModuleName();
        if (module != null) {
            return module.startsWith("java.") || module.startsWith("jdk.");
        }
        String c = f.getClassName();
        return c.startsWith("java.") || c.startsWith("javax.") || c.startsWith("jdk.") || c.startsWith("sun.")
                || c.startsWith("com.sun.");
    }

    private static String where(StackTraceElement f) {
        String pkg = packageOf(f);
        return frame(f) + " (package " + (pkg.isEmpty() ? "unnamed" : pkg) + ")";
    }

    static String packageOf(StackTraceElement f) {
        String c = f.getClassName();
        int dot = c.lastIndexOf('.');
        return dot < 0 ? "" : c.substring(0, dot);
    }

    /** Class.method(File.java:line), without the module and loader prefixes. */
    static String frame(StackTraceElement f) {
        String source = f.isNativeMethod() ? "Native Method"
                : f.getFileName() == null ? "Unknown Source"
                : f.getLineNumber() >= 0 ? f.getFileName() + ":" + f.getLineNumber() : f.getFileName();
        return f.getClassName() + "." + f.getMethodName() + "(" + source + ")";
    }
}
