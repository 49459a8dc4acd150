package dev.usethread.agent.config;

/**
 * Quotes user input in a message safely: printable ASCII as is, everything else escaped (so that a
 * terminal escape sequence or binary data is shown, not acted on), and at most {@link #MAX} characters.
 */
public final class Quote {
    static final int MAX = 200;

    private Quote() {
    }

    /** The text in single quotes, escaped and cut to {@link #MAX} characters with the full length said. */
    public static String of(String text) {
        StringBuilder s = new StringBuilder("'");
        int n = Math.min(text.length(), MAX);
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c >= 0x20 && c < 0x7f) {
                s.append(c);
            } else if (c == '\n') {
                s.append("\\n");
            } else if (c == '\t') {
                s.append("\\t");
            } else if (c == '\r') {
                s.append("\\r");
            } else {
                String hex = Integer.toHexString(c);
                s.append("\\u").append("0000", hex.length(), 4).append(hex);
            }
        }
        s.append('\'');
        if (text.length() > MAX) {
            s.append("... (").append(text.length()).append(" characters)");
        }
        return s.toString();
    }
}
