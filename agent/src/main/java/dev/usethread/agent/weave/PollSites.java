package dev.usethread.agent.weave;

/**
 * The contract between woven code and the runtime's {@code dev.usethread.internal.Poll}: the calls
 * both weavers insert, spelled once.
 */
public final class PollSites {
    public static final String OWNER = "dev/usethread/internal/Poll";
    /** Method entries and loop back-edges. */
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

    /** The polls C2 must inline whatever the caller's budget (see {@link ForceInlineMarker}). */
    public static final String[] FORCE_INLINE = {POLL, POLL_IN_HANDLER};

    private PollSites() {
    }
}
