package dev.usethread.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentConfigTest {
    private static final Properties NONE = new Properties();

    @Test
    void defaultWeavesEveryApplicationClassAndNoJdkClass() {
        AgentConfig c = AgentConfig.parse(null, NONE);
        assertThat(c.weavesApplicationClass("com.acme.Foo")).isTrue();
        assertThat(c.weavesJdkClass("java.util.regex.Pattern")).isFalse();
        assertThat(c.verbose()).isFalse();
        assertThat(c.dump()).isNull();
    }

    @Test
    void agentArgumentsIncludeExcludeJdkVerboseDump() {
        AgentConfig c = AgentConfig.parse(
                "include=com.acme.**,org.x;exclude=com.acme.gen.**; jdk=java.util.regex ;verbose;dump=/tmp/w", NONE);
        assertThat(c.weavesApplicationClass("com.acme.Foo")).isTrue();
        assertThat(c.weavesApplicationClass("org.x.Y")).isTrue();
        assertThat(c.weavesApplicationClass("com.acme.gen.Foo")).isFalse();
        assertThat(c.weavesApplicationClass("net.other.Z")).isFalse();
        assertThat(c.weavesJdkClass("java.util.regex.Pattern$Loop")).isTrue();
        assertThat(c.weavesJdkClass("java.util.HashMap")).isFalse();
        assertThat(c.verbose()).isTrue();
        assertThat(c.dump()).isEqualTo(Paths.get("/tmp/w"));
    }

    @Test
    void argumentsOverrideSystemPropertiesWhichOverrideTheFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("a.properties");
        Files.writeString(file, "usethread.include=a.**,b.**,c.**\nexclude=b.**\nverbose=true\n");
        Properties props = new Properties();
        props.setProperty("usethread.config", file.toString());
        props.setProperty("usethread.exclude", "c.**");
        props.setProperty("usethread.stress.ops", "1"); // other usethread.* properties are not agent options
        AgentConfig c = AgentConfig.parse("verbose=false", props);
        assertThat(c.weavesApplicationClass("a.X")).isTrue();
        assertThat(c.weavesApplicationClass("b.X")).isTrue();
        assertThat(c.weavesApplicationClass("c.X")).isFalse();
        assertThat(c.verbose()).isFalse();
    }

    @Test
    void badOptionsNameTheOptionAndListTheValidOnes() {
        assertThatThrownBy(() -> AgentConfig.parse("inclde=a", NONE))
                .hasMessageContaining("unknown option 'inclde'").hasMessageContaining("Valid options")
                .hasMessageContaining("include=<patterns>");
        assertThatThrownBy(() -> AgentConfig.parse("include=a/b", NONE))
                .hasMessageContaining("malformed pattern in option 'include=a/b'");
        assertThatThrownBy(() -> AgentConfig.parse("verbose=yes", NONE)).hasMessageContaining("true or false");
        assertThatThrownBy(() -> AgentConfig.parse("dump=", NONE)).hasMessageContaining("needs a directory");
        assertThatThrownBy(() -> AgentConfig.parse("exclude", NONE)).hasMessageContaining("needs a value");
        Properties props = new Properties();
        props.setProperty("usethread.jdk", "java..util");
        assertThatThrownBy(() -> AgentConfig.parse(null, props)).hasMessageContaining("option 'jdk=java..util'");
    }
}
