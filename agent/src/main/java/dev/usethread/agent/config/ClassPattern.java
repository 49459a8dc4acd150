package dev.usethread.agent.config;

/**
 * A class-name glob: {@code *} matches any part of a name except dots, {@code **} matches anything
 * including dots. A name without wildcards matches that package and its subpackages, or that class
 * and its nested classes: {@code java.util.regex} and {@code com.acme.**} both do what they say.
 */
public final class ClassPattern {
    private final String text;
    private final boolean literal;

    private ClassPattern(String text) {
        this.text = text;
        this.literal = text.indexOf('*') < 0;
    }

    /** Parses a pattern, or throws {@link IllegalArgumentException} saying what is wrong with it. */
    public static ClassPattern parse(String text) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("empty pattern");
        }
        if (text.indexOf('/') >= 0) {
            throw new IllegalArgumentException("use dots, not slashes, in " + Quote.of(text));
        }
        if (text.startsWith(".") || text.endsWith(".") || text.contains("..")) {
            throw new IllegalArgumentException("empty name part in " + Quote.of(text));
        }
        if (text.contains("***")) {
            throw new IllegalArgumentException("'***' in " + Quote.of(text) + " (use * or **)");
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '.' && c != '*' && (!Character.isJavaIdentifierPart(c) || Character.isIdentifierIgnorable(c))) {
                throw new IllegalArgumentException(
                        "character " + Quote.of(String.valueOf(c)) + " is not allowed in " + Quote.of(text));
            }
        }
        for (String part : splitDots(text)) {
            if (Character.isDigit(part.charAt(0))) {
                throw new IllegalArgumentException(
                        "name part " + Quote.of(part) + " in " + Quote.of(text) + " starts with a digit");
            }
        }
        return new ClassPattern(text);
    }

    private static String[] splitDots(String text) {
        java.util.List<String> parts = new java.util.ArrayList<>();
        int from = 0;
        for (int i = 0; i <= text.length(); i++) {
            if (i == text.length() || text.charAt(i) == '.') {
                parts.add(text.substring(from, i));
                from = i + 1;
            }
        }
        return parts.toArray(new String[0]);
    }

    /** Matches a binary class name with dots ({@code com.acme.Outer$Inner}). */
    public boolean matches(String className) {
        if (literal) {
            return className.startsWith(text)
                    && (className.length() == text.length()
                            || className.charAt(text.length()) == '.'
                            || className.charAt(text.length()) == '$');
        }
        return glob(0, className, 0);
    }

    // Hand-written rather than java.util.regex: the transformer must not run code the user may weave.
    private boolean glob(int pi, String s, int si) {
        while (pi < text.length()) {
            char c = text.charAt(pi);
            if (c == '*') {
                boolean any = pi + 1 < text.length() && text.charAt(pi + 1) == '*';
                int next = pi + (any ? 2 : 1);
                for (int k = si; k <= s.length(); k++) {
                    if (k > si && !any && s.charAt(k - 1) == '.') {
                        break;
                    }
                    if (glob(next, s, k)) {
                        return true;
                    }
                }
                return false;
            }
            if (si >= s.length() || s.charAt(si) != c) {
                return false;
            }
            pi++;
            si++;
        }
        return si == s.length();
    }

    @Override
    public String toString() {
        return text;
    }
}
