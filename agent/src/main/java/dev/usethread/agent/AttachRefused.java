package dev.usethread.agent;

/**
 * Why a late attach was refused: the attach fails (jcmd says "return code: 102"). The JDK reports what
 * agentmain throws with printStackTrace in the application's standard error; this exception has no stack
 * and prints as its message alone, on one line.
 */
final class AttachRefused extends RuntimeException {
    private static final long serialVersionUID = 1L;

    AttachRefused(String problem) {
        super(problem.replace(":\n  ", ": ").replace("\n  ", "; ").replace('\n', ' '), null, false, false);
    }

    @Override
    public String toString() {
        return getMessage();
    }
}
