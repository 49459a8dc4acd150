package dev.usethread.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usethread.agent.config.AgentConfig;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class PollTransformerTest {
    private static final ClassLoader APP = PollTransformerTest.class.getClassLoader();
    private static final ClassLoader PLATFORM = ClassLoader.getPlatformClassLoader();

    private static PollTransformer with(String args) {
        return new PollTransformer(AgentConfig.parse(args, new Properties()), null);
    }

    @Test
    void runtimeAndAgentAreNeverWovenButOtherUsethreadPackagesAre() {
        PollTransformer t = with(null);
        assertThat(t.inScope(APP, "dev/usethread/UseThread")).isFalse();
        assertThat(t.inScope(APP, "dev/usethread/internal/Poll")).isFalse();
        assertThat(t.inScope(APP, "dev/usethread/agent/AgentMain")).isFalse();
        assertThat(t.inScope(APP, "dev/usethread/agent/shaded/asm/ClassReader")).isFalse();
        assertThat(t.inScope(APP, "dev/usethread/demo/Demo")).isTrue();
        assertThat(t.inScope(APP, "dev/usethread/internal/sub/Thing")).isTrue();
        assertThat(t.inScope(APP, "com/acme/Foo")).isTrue();
    }

    @Test
    void theCacheKnowsAClassByWhereItWasLoadedFrom() throws Exception {
        assertThat(PollTransformer.origin(null, null)).isEqualTo("jdk");
        assertThat(PollTransformer.origin(PLATFORM, null)).isEqualTo("jdk");
        java.net.URL jar = new java.net.URL("file:/app/lib/a.jar");
        assertThat(PollTransformer.origin(APP, new java.security.ProtectionDomain(
                new java.security.CodeSource(jar, (java.security.cert.Certificate[]) null), null)))
                .isEqualTo("file:/app/lib/a.jar");
        // Generated at run time (no code source, or one without a location): never cached.
        assertThat(PollTransformer.origin(APP, null)).isNull();
        assertThat(PollTransformer.origin(APP, new java.security.ProtectionDomain(null, null))).isNull();
        assertThat(PollTransformer.origin(APP, new java.security.ProtectionDomain(
                new java.security.CodeSource(null, (java.security.cert.Certificate[]) null), null))).isNull();
    }

    @Test
    void jdkClassesOnlyWhenOptedInAndNeverTheDenyList() {
        assertThat(with(null).inScope(null, "java/util/regex/Pattern")).isFalse();
        assertThat(with(null).inScope(PLATFORM, "java/sql/Date")).isFalse();
        PollTransformer t = with("jdk=java.util.regex,java.math");
        assertThat(t.inScope(null, "java/util/regex/Pattern")).isTrue();
        assertThat(t.inScope(null, "java/math/BigInteger")).isTrue();
        assertThat(t.inScope(null, "java/util/HashMap")).isFalse();
        assertThat(t.inScope(PLATFORM, "java/sql/Date")).isFalse();
        // jdk= refuses these (AgentConfigTest); the transformer keeps them out on its own too.
        assertThat(PollTransformer.neverWoven("java.lang.String")).isTrue();
        assertThat(PollTransformer.neverWoven("java.lang.invoke.MethodHandle")).isTrue();
        assertThat(PollTransformer.neverWoven("jdk.internal.misc.Unsafe")).isTrue();
        assertThat(PollTransformer.neverWoven("sun.nio.ch.FileChannelImpl")).isTrue();
        assertThat(PollTransformer.neverWoven("com.sun.crypto.provider.AESCrypt")).isTrue();
    }

    @Test
    void includeAndExcludeSelectApplicationClasses() {
        PollTransformer t = with("include=com.acme.**;exclude=com.acme.gen.**");
        assertThat(t.inScope(APP, "com/acme/Foo")).isTrue();
        assertThat(t.inScope(APP, "com/acme/gen/Foo")).isFalse();
        assertThat(t.inScope(APP, "org/other/Bar")).isFalse();
    }

    @Test
    void transformReturnsNullForClassesOutOfScopeAndWovenBytesOtherwise() throws Exception {
        PollTransformer t = with(null);
        byte[] bytes;
        try (var in = PollTransformerTest.class.getResourceAsStream("PollTransformerTest.class")) {
            bytes = in.readAllBytes();
        }
        assertThat(t.transform(APP, "dev/usethread/agent/PollTransformerTest", null, null, bytes)).isNull();
        byte[] woven = t.transform(APP, "com/acme/PollTransformerTest", null, null, bytes);
        assertThat(woven).isNotNull().isNotEqualTo(bytes);
        assertThat(t.transform(APP, "com/acme/Broken", null, null, new byte[] {1, 2, 3})).isNull();
        assertThat(t.summary()).contains("1 classes woven").contains("1 left unwoven").contains("com.acme.Broken");
    }
}
