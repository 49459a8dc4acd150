package dev.usethread.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Properties;
import org.junit.jupiter.api.Test;

class JdkPackagesTest {
    private static String refusal(String pattern) {
        return JdkPackages.refusal(ClassPattern.parse(pattern));
    }

    @Test
    void theAllowedPackagesTheirClassesAndGlobsInsideThem() {
        for (String p : new String[] {"java.util.regex", "java.math", "java.util.regex.*", "java.util.regex.**",
            "java.util.regex.Pattern", "java.math.Big*", "java.util.regex.Pattern$*"}) {
            assertThat(refusal(p)).as(p).isNull();
        }
    }

    @Test
    void aPatternThatReachesBeyondThemIsRefusedWithThePackageAndWhy() {
        assertThat(refusal("java.util.concurrent")).contains("'java.util.concurrent'")
                .contains("java.util.concurrent: locks, queues and executors would be left broken")
                .contains("Only these JDK packages may be woven").contains("java.util.regex, java.math");
        assertThat(refusal("java.util.concurrent.locks.*")).contains("java.util.concurrent: locks, queues");
        assertThat(refusal("java.util")).contains("java.util: collections would be left half-changed")
                .contains("java.util.concurrent: locks").contains("java.util.stream:");
        // Only what the glob reaches: java.util.* is the classes directly in java.util.
        assertThat(refusal("java.util.*")).contains("java.util: collections").doesNotContain("java.util.concurrent");
        assertThat(refusal("java.util.HashMap")).contains("java.util: collections");
        assertThat(refusal("java.**")).contains("java.lang: the JVM's own core").contains("java.util.concurrent:")
                .contains("other packages in java: not shown to keep shared state consistent");
        assertThat(refusal("java.text")).contains("java.text: not shown to keep shared state consistent");
        assertThat(refusal("java.util.zip")).contains("java.util.zip: not shown").doesNotContain("collections");
        assertThat(refusal("**")).contains("sun: the JVM's own core").contains("any other package");
        // Near misses of an allowed name.
        assertThat(refusal("java.util.regex2")).isNotNull();
        assertThat(refusal("java.util.reg*")).isNotNull();
        assertThat(refusal("java.mathx.Foo")).isNotNull();
    }

    @Test
    void theOptionStopsStartUpFromEverySource() {
        assertThatThrownBy(() -> AgentConfig.parse("jdk=java.util.regex,java.util", new Properties()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("may not name 'java.util'");
        Properties props = new Properties();
        props.setProperty("usethread.jdk", "java.**");
        assertThatThrownBy(() -> AgentConfig.parse(null, props)).hasMessageContaining("may not name 'java.**'");
        AgentConfig ok = AgentConfig.parse("jdk=java.util.regex,java.math", new Properties());
        assertThat(ok.weavesJdkClass("java.math.BigDecimal")).isTrue();
        assertThat(ok.weavesJdkClass("java.util.concurrent.locks.AbstractQueuedSynchronizer")).isFalse();
    }
}
