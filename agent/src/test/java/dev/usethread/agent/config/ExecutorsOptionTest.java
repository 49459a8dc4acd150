package dev.usethread.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Properties;
import org.junit.jupiter.api.Test;

/** executors: interrupt unless asked for intrusive, from the arguments or a system property; a bad value is named. */
class ExecutorsOptionTest {
    @Test
    void offByDefaultOnRequest() {
        assertThat(AgentConfig.parse(null, new Properties()).intrusiveExecutors()).isFalse();
        assertThat(AgentConfig.parse("executors=interrupt", new Properties()).intrusiveExecutors()).isFalse();
        assertThat(AgentConfig.parse("executors=intrusive", new Properties()).intrusiveExecutors()).isTrue();
        Properties p = new Properties();
        p.setProperty("usethread.executors", "intrusive");
        assertThat(AgentConfig.parse(null, p).intrusiveExecutors()).isTrue();
        assertThat(AgentConfig.usage()).contains("executors=interrupt|intrusive");
    }

    @Test
    void aBadValueIsNamed() {
        assertThatThrownBy(() -> AgentConfig.parse("executors=always", new Properties()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("executors").hasMessageContaining("always");
    }
}
