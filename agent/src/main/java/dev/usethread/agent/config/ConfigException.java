package dev.usethread.agent.config;

/** A bad agent option: the message names it and lists the valid options. */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String problem;

    public ConfigException(String problem) {
        super(problem + "\n" + AgentConfig.USAGE);
        this.problem = problem;
    }

    /** The message without the list of valid options. */
    public String problem() {
        return problem;
    }
}
