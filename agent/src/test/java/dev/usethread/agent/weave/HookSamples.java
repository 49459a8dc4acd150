package dev.usethread.agent.weave;

/** Shapes of exception handling, compiled by javac, that {@link HandlerHooksTest} weaves and runs. */
@SuppressWarnings({"unused", "finally"})
public final class HookSamples {
    static final Object LOCK = new Object();
    static int counter;

    private HookSamples() {
    }

    public static int tryFinally(boolean fail) {
        int r = 0;
        try {
            if (fail) {
                throw new IllegalStateException("body");
            }
            r = 1;
        } finally {
            counter += 10;
        }
        return r;
    }

    public static int catchRethrow(boolean fail) {
        try {
            if (fail) {
                throw new IllegalStateException("body");
            }
            return 1;
        } catch (IllegalStateException e) {
            counter++;
            throw e;
        }
    }

    /** A swallowing retry loop: the handler jumps back to normal code. */
    public static int swallowingRetry(int failures) {
        int attempts = 0;
        while (true) {
            try {
                attempts++;
                if (attempts <= failures) {
                    throw new IllegalStateException("attempt " + attempts);
                }
                return attempts;
            } catch (Throwable t) {
                counter++;
            }
        }
    }

    /** javac copies the finally body: its loop in the handler copy lies wholly in handler code. */
    public static int loopInFinally(int n, boolean fail) {
        int s = 0;
        try {
            if (fail) {
                throw new IllegalStateException("body");
            }
        } finally {
            for (int i = 0; i < n; i++) {
                counter++;
            }
        }
        return s;
    }

    public static String nested() {
        try {
            try {
                throw new IllegalArgumentException("inner");
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("outer", e);
            }
        } catch (IllegalStateException e) {
            return e.getMessage() + "/" + e.getCause().getMessage();
        }
    }

    /** Two exception-table entries, one handler. */
    public static String multiCatch(int which) {
        try {
            if (which == 0) {
                throw new IllegalArgumentException("a");
            }
            throw new UnsupportedOperationException("b");
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            return e.getMessage();
        }
    }

    /** max_stack 1, and stays 1: the thrown hook returns its argument. */
    public static void rethrow(Throwable t) throws Throwable {
        throw t;
    }

    /** max_stack 1: the caught hook's {@code dup} needs a second slot. */
    public static boolean swallow(Runnable r) {
        try {
            r.run();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    public static int synchronizedBlock(boolean fail) {
        synchronized (LOCK) {
            if (fail) {
                throw new IllegalStateException("in monitor");
            }
            counter++;
        }
        return counter;
    }

    /** A loop with a switch inside a catch body. */
    public static int switchInHandler(int k) {
        try {
            throw new IllegalStateException("body");
        } catch (IllegalStateException e) {
            int s = 0;
            for (int i = 0; i < 3; i++) {
                switch (k + i) {
                    case 0:
                        s += 1;
                        break;
                    case 1:
                        s += 20;
                        break;
                    case 7:
                        s += 300;
                        break;
                    default:
                        s += 4000;
                }
            }
            return s;
        }
    }

    public static int firstLine(int x) {
        int y = x * 2;
        return y + 1;
    }
}
