package dev.usethread.agent.weave;

import dev.usethread.internal.PollGroup;

/**
 * The contract between woven code and the runtime's {@code dev.usethread.internal.Poll} and
 * {@code GroupPolls}: the calls both weavers insert, spelled once. A woven class calls the polls of
 * its poll group ({@link PollGroup}), so that a cancellation arms only the groups the cancelled
 * thread runs.
 */
public final class PollSites {
    /** Owner of the handler hooks (and of the hand-written polls). */
    public static final String OWNER = "dev/usethread/internal/Poll";
    /** Owner of the polls woven code calls: {@code pN()} and {@code hN()} for poll group N. */
    public static final String GROUP_OWNER = "dev/usethread/internal/GroupPolls";
    /** Method entries and loop back-edges (the hand-written name; woven code calls {@link #pollName}). */
    public static final String POLL = "poll";
    /** Back-edges whose targets all lie in exception-handler code (a loop inside a finally or catch). */
    public static final String POLL_IN_HANDLER = "pollInHandler";
    /** At the start of every exception handler, after {@code dup}: the caught throwable. */
    public static final String CAUGHT = "caught";
    /**
     * Before every {@code athrow}: takes the throwable about to be thrown and returns it, so the
     * stack is as it was and max_stack need not grow.
     */
    public static final String THROWN = "thrown";
    public static final String POLL_DESC = "()V";
    /** {@code caught} consumes the {@code dup}ed throwable. */
    public static final String CAUGHT_DESC = "(Ljava/lang/Throwable;)V";
    /** {@code thrown} returns its argument: athrow accepts any Throwable, so no checkcast is needed. */
    public static final String THROWN_DESC = "(Ljava/lang/Throwable;)Ljava/lang/Throwable;";

    /**
     * Every method of GroupPolls: {@code pN} and {@code hN} for each poll group N (runtime's
     * GroupPolls marks each {@code @ForceInline}).
     */
    public static final String[] GROUP_POLLS = new String[2 * PollGroup.COUNT];

    static {
        for (int g = 0; g < PollGroup.COUNT; g++) {
            GROUP_POLLS[2 * g] = "p" + g;
            GROUP_POLLS[2 * g + 1] = "h" + g;
        }
    }

    /**
     * The GroupPolls method a class named {@code internalName} calls for {@code kind} ({@link #POLL}
     * or {@link #POLL_IN_HANDLER}).
     */
    public static String pollName(String internalName, String kind) {
        return pollName(PollGroup.of(internalName == null ? "" : internalName), kind);
    }

    /** The GroupPolls method of poll group {@code group} for {@code kind}; no string is built. */
    static String pollName(int group, String kind) {
        return GROUP_POLLS[2 * group + (POLL_IN_HANDLER.equals(kind) ? 1 : 0)];
    }

    /**
     * What a call to {@code owner.name} is in woven code: {@link #POLL}, {@link #POLL_IN_HANDLER},
     * {@link #CAUGHT}, {@link #THROWN}, or null when it is not a call the weaver inserts.
     */
    public static String kindOf(String owner, String name) {
        if (GROUP_OWNER.equals(owner) && name.length() > 1) {
            return name.charAt(0) == 'p' ? POLL : name.charAt(0) == 'h' ? POLL_IN_HANDLER : null;
        }
        if (OWNER.equals(owner)) {
            return name.equals(CAUGHT) || name.equals(THROWN) || name.equals(POLL) || name.equals(POLL_IN_HANDLER)
                    ? name : null;
        }
        return null;
    }

    private PollSites() {
    }
}
