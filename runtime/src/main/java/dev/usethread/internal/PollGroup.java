package dev.usethread.internal;

/**
 * Which poll site a woven class uses. Woven classes are spread over {@link #COUNT} groups by a hash
 * of their name; each group has its own site ({@link GroupPolls}), so a cancellation arms only the
 * groups of the code the cancelled thread runs, and code run only by other threads stays compiled as
 * if it had no polls. The agent computes the group as it weaves a class; the runtime computes it
 * again from the class names in the cancelled thread's stack trace.
 */
public final class PollGroup {
    /** Number of groups: a power of two, and the number of {@code p}/{@code h} methods of GroupPolls. */
    public static final int COUNT = 256;

    private PollGroup() {
    }

    /**
     * The group of a class, from its binary name ({@code a.b.C$D}) or internal name ({@code a/b/C$D}):
     * both spellings give the same group.
     */
    public static int of(String className) {
        int h = 0;
        for (int i = 0, n = className.length(); i < n; i++) {
            h = step(h, className.charAt(i));
        }
        return ofHash(h);
    }

    /** One character of a class name into the running hash {@link #of} computes. */
    public static int step(int h, char c) {
        return 31 * h + (c == '/' ? '.' : c);
    }

    /** The group of a name whose characters {@link #step} has hashed into {@code h}. */
    public static int ofHash(int h) {
        h ^= h >>> 16; // String.hashCode's low bits alone group classes of one package together
        h *= 0x45d9f3b;
        h ^= h >>> 16;
        return h & (COUNT - 1);
    }
}
