package dev.usethread.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class QuoteTest {
    @Test
    void printableAsciiAsIsEverythingElseEscaped() {
        assertThat(Quote.of("com.acme/x y")).isEqualTo("'com.acme/x y'");
        assertThat(Quote.of("a\u001b[31mb\n\t\r\u0000é\u2028")).isEqualTo("'a\\u001b[31mb\\n\\t\\r\\u0000\\u00e9\\u2028'");
    }

    @Test
    void longTextIsCutAndItsLengthSaid() {
        String q = Quote.of("k".repeat(300_000));
        assertThat(q).hasSize(Quote.MAX + 2 + "... (300000 characters)".length()).endsWith("'... (300000 characters)");
    }
}
