package dev.usethread.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ClassPatternTest {
    @Test
    void nameWithoutWildcardsMeansPackageAndSubpackagesOrClassAndNested() {
        ClassPattern p = ClassPattern.parse("java.util.regex");
        assertThat(p.matches("java.util.regex.Pattern")).isTrue();
        assertThat(p.matches("java.util.regex.Pattern$Node")).isTrue();
        assertThat(p.matches("java.util.regexx.Foo")).isFalse();
        assertThat(p.matches("java.util.Regex")).isFalse();
        assertThat(ClassPattern.parse("com.acme.Foo").matches("com.acme.Foo$Bar")).isTrue();
    }

    @Test
    void singleStarStaysInOnePartDoubleStarCrossesDots() {
        assertThat(ClassPattern.parse("com.acme.*").matches("com.acme.Foo")).isTrue();
        assertThat(ClassPattern.parse("com.acme.*").matches("com.acme.gen.Foo")).isFalse();
        assertThat(ClassPattern.parse("com.acme.**").matches("com.acme.gen.Foo")).isTrue();
        assertThat(ClassPattern.parse("com.*.gen.**").matches("com.acme.gen.x.Y")).isTrue();
        assertThat(ClassPattern.parse("com.*.gen.**").matches("com.a.b.gen.Y")).isFalse();
        assertThat(ClassPattern.parse("**Test").matches("a.b.FooTest")).isTrue();
        assertThat(ClassPattern.parse("com.acme.Foo*").matches("com.acme.FooBar$1")).isTrue();
    }

    @Test
    void malformedPatternsSayWhatIsWrong() {
        assertThatThrownBy(() -> ClassPattern.parse("")).hasMessageContaining("empty");
        assertThatThrownBy(() -> ClassPattern.parse("com/acme")).hasMessageContaining("dots, not slashes");
        assertThatThrownBy(() -> ClassPattern.parse("com..acme")).hasMessageContaining("empty name part");
        assertThatThrownBy(() -> ClassPattern.parse(".com")).hasMessageContaining("empty name part");
        assertThatThrownBy(() -> ClassPattern.parse("com.***")).hasMessageContaining("***");
        assertThatThrownBy(() -> ClassPattern.parse("com.a-b")).hasMessageContaining("'-'");
        assertThatThrownBy(() -> ClassPattern.parse("com.1a")).hasMessageContaining("starts with a digit");
    }
}
