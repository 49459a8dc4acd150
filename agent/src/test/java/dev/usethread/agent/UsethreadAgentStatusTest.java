package dev.usethread.agent;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Whether the agent runs is read from the runtime, not from a system property any code can set. */
class UsethreadAgentStatusTest {
    @Test
    void settingThePropertyDoesNotMakeTheAgentInstalled() {
        String before = System.getProperty(AgentMain.INSTALLED_PROPERTY);
        System.setProperty(AgentMain.INSTALLED_PROPERTY, "/fake/usethread-agent.jar");
        try {
            assertThat(UsethreadAgent.isInstalled()).isFalse();
        } finally {
            if (before == null) {
                System.clearProperty(AgentMain.INSTALLED_PROPERTY);
            } else {
                System.setProperty(AgentMain.INSTALLED_PROPERTY, before);
            }
        }
    }
}
