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

    /** Caches and queues that keep state across calls without a finally: never woven, even when included. */
    @Test
    void cachesAndLockFreeQueuesAreNeverWovenTheRestOfGuavaIs() {
        for (String args : new String[] {null, "include=com.google.**,com.github.**,org.jctools.**"}) {
            AgentConfig c = AgentConfig.parse(args, NONE);
            assertThat(c.weavesApplicationClass("com.google.common.cache.LocalCache$Segment")).isFalse();
            assertThat(c.weavesApplicationClass("com.github.benmanes.caffeine.cache.BoundedLocalCache")).isFalse();
            assertThat(c.weavesApplicationClass("org.jctools.queues.MpscArrayQueue")).isFalse();
            assertThat(c.weavesApplicationClass("com.google.common.collect.ImmutableList")).isTrue();
            assertThat(c.weavesApplicationClass("com.google.common.cachex.Other")).isTrue();
        }
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
        assertThatThrownBy(() -> AgentConfig.parse("cache=", NONE))
                .hasMessageContaining("option 'cache' needs a directory (cache=<directory>)");
        assertThatThrownBy(() -> AgentConfig.parse("cache=/tmp/a\u0000b", NONE))
                .hasMessageContaining("option 'cache=/tmp/a\\u0000b' is not a path");
        assertThat(AgentConfig.parse("cache=/tmp/woven", NONE).cache()).isEqualTo(java.nio.file.Paths.get("/tmp/woven"));
        assertThat(AgentConfig.parse("", NONE).cache()).isNull();
        assertThatThrownBy(() -> AgentConfig.parse("exclude", NONE)).hasMessageContaining("needs a value");
        Properties props = new Properties();
        props.setProperty("usethread.jdk", "java..util");
        assertThatThrownBy(() -> AgentConfig.parse(null, props)).hasMessageContaining("option 'jdk=java..util'");
    }

    @Test
    void aConfigFileMustBeASmallRegularFile(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> AgentConfig.parse("config=/dev/zero", NONE))
                .hasMessageContaining("cannot read config file '/dev/zero': not a regular file");
        assertThatThrownBy(() -> AgentConfig.parse("config=" + dir, NONE)).hasMessageContaining("not a regular file");
        assertThatThrownBy(() -> AgentConfig.parse("config=" + dir.resolve("missing"), NONE))
                .hasMessageContaining("no such file");
        Path big = dir.resolve("big.properties");
        Files.writeString(big, "verbose=true\n#" + "x".repeat(AgentConfig.MAX_FILE_BYTES));
        assertThatThrownBy(() -> AgentConfig.parse("config=" + big, NONE))
                .hasMessageContaining("larger than " + AgentConfig.MAX_FILE_BYTES + " bytes");
        Path fits = dir.resolve("fits.properties");
        Files.writeString(fits, "verbose=true\n#" + "x".repeat(AgentConfig.MAX_FILE_BYTES - 20));
        assertThat(AgentConfig.parse("config=" + fits, NONE).verbose()).isTrue();
    }

    @Test
    void messagesNeverQuoteFileContentButAMisspeltName(@TempDir Path dir) throws Exception {
        Path typo = dir.resolve("typo.properties");
        Files.writeString(typo, "incldue=com.acme\n");
        assertThatThrownBy(() -> AgentConfig.parse("config=" + typo, NONE))
                .hasMessageContaining("unknown option 'incldue' (in config file '" + typo + "')");

        Path secret = dir.resolve("secret");
        Files.writeString(secret, "sk_live_0123456789abcdefghijklmnopqrstuvwxyz\n");
        assertThatThrownBy(() -> AgentConfig.parse("config=" + secret, NONE))
                .hasMessageContaining("unknown option (a name of 44 characters, not shown)")
                .hasMessageNotContaining("sk_live");

        Path binary = dir.resolve("binary");
        Files.write(binary, new byte[] {0x1b, '[', '2', 'J', 0, (byte) 0xff, '=', 'x'});
        assertThatThrownBy(() -> AgentConfig.parse("config=" + binary, NONE))
                .hasMessageContaining("not shown").hasMessageNotContaining("\u001b").hasMessageNotContaining("[2J");

        Path badValue = dir.resolve("value.properties");
        Files.writeString(badValue, "include=s3cr3t/\u001b[2J\nverbose=hunter2\n");
        assertThatThrownBy(() -> AgentConfig.parse("config=" + badValue, NONE))
                .hasMessageContaining("malformed pattern in option 'include' (in config file '" + badValue + "')")
                .hasMessageNotContaining("s3cr3t").hasMessageNotContaining("\u001b");
        assertThatThrownBy(() -> AgentConfig.parse("config=" + badValue + ";include=a", NONE))
                .hasMessageContaining("option 'verbose' takes true or false, not what config file")
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void valuesFromArgumentsAreQuotedEscapedAndCut() {
        assertThatThrownBy(() -> AgentConfig.parse("include=a\u001b[31mb", NONE))
                .hasMessageContaining("'include=a\\u001b[31mb'").hasMessageNotContaining("\u001b");
        assertThatThrownBy(() -> AgentConfig.parse("k".repeat(300_000) + "=1", NONE))
                .hasMessageContaining("... (300000 characters)")
                .satisfies(e -> assertThat(e.getMessage().length()).isLessThan(2_000));
    }
}
