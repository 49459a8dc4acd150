package dev.usethread.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Properties;
import org.junit.jupiter.api.Test;

/** propagate: on unless turned off, from the arguments or a system property; a bad value is named. */
class PropagateOptionTest {
    @Test
    void onByDefaultOffOnRequest() {
        assertThat(AgentConfig.parse(null, new Properties()).propagate()).isTrue();
        assertThat(AgentConfig.parse("propagate=false", new Properties()).propagate()).isFalse();
        assertThat(AgentConfig.parse("propagate=true", new Properties()).propagate()).isTrue();
        Properties p = new Properties();
        p.setProperty("usethread.propagate", "false");
        assertThat(AgentConfig.parse(null, p).propagate()).isFalse();
        assertThat(AgentConfig.usage()).contains("propagate=true|false");
    }

    @Test
    void aBadValueIsNamed() {
        assertThatThrownBy(() -> AgentConfig.parse("propagate=sometimes", new Properties()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("propagate").hasMessageContaining("sometimes");
    }
}
