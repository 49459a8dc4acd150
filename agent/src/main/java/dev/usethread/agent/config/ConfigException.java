package dev.usethread.agent.config;

/** A bad agent option: the message names it and lists the valid options. */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message + "\n" + AgentConfig.USAGE);
    }
}
