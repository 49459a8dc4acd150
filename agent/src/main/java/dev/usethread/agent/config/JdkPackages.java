package dev.usethread.agent.config;

import java.util.ArrayList;
import java.util.List;

/**
 * Which JDK packages {@code jdk=} may weave. A cancellation stops a thread at whichever poll it reaches;
 * inside JDK code that changes state other threads share (a lock's wait queue, a map being resized) it
 * leaves that state half-changed for everyone. Only packages that compute over the caller's own objects,
 * with caches that are replaced whole (copy-on-write), are allowed, and each is tested in a child JVM.
 */
final class JdkPackages {
    /** The packages {@code jdk=} accepts. */
    static final List<String> ALLOWED = List.of("java.util.regex", "java.math");

    private static final String CORE = "the JVM's own core: weaving it breaks the JVM";
    private static final String UNTESTED = "not shown to keep shared state consistent when a job stops inside";

    /** Packages refused for a reason of their own; the reason holds for their subpackages too, except java.util's. */
    private static final String[][] REFUSED = {
        {"java.lang", CORE},
        {"java.util", "collections would be left half-changed by a stop in the middle of an insertion or a"
                + " resize (HashMap.resize moves entries in a loop), and every library shares them"},
        {"java.util.concurrent", "locks, queues and executors would be left broken by a cancellation inside them"
                + " (a stop in a lock's wait queue strands the next waiter; one in LinkedBlockingQueue.take()"
                + " loses the next item)"},
        {"java.util.stream", "parallel pipelines hand their work to shared ForkJoinPool threads; " + UNTESTED
                + " (the lambdas a stream calls are application code and woven anyway)"},
        {"java.io", "System.out, System.err and other streams the whole JVM shares run through it; " + UNTESTED},
        {"java.nio", "buffers and channels keep positions and locks that a stop can leave mid-update; " + UNTESTED},
        {"jdk.internal", CORE},
        {"jdk.jfr", CORE},
        {"sun", CORE},
        {"com.sun", CORE},
    };

    private JdkPackages() {
    }

    /** Null if every class the pattern can match is in an allowed package, else why it is refused. */
    static String refusal(ClassPattern pattern) {
        String text = pattern.toString();
        int star = text.indexOf('*');
        String literal = star < 0 ? text : text.substring(0, star);
        for (String allowed : ALLOWED) {
            if ((star < 0 && literal.equals(allowed)) || literal.startsWith(allowed + ".")) {
                return null;
            }
        }
        // The package the pattern starts from: its whole name parts before any wildcard.
        String base = star < 0 ? text : literal.substring(0, Math.max(0, literal.lastIndexOf('.')));
        List<String> reasons = new ArrayList<>();
        String[] ancestor = null;
        for (String[] r : REFUSED) {
            if (r[0].equals(base) || ((base.isEmpty() || r[0].startsWith(base + ".")) && pattern.matches(r[0] + ".X"))) {
                reasons.add(r[0] + ": " + r[1]);
            } else if (base.startsWith(r[0] + ".") && covers(r[0], base)
                    && (ancestor == null || r[0].length() > ancestor[0].length())) {
                ancestor = r;
            }
        }
        if (reasons.isEmpty() && ancestor != null) {
            reasons.add(ancestor[0] + ": " + ancestor[1]);
        } else if (!isListed(base)) {
            reasons.add((base.isEmpty() ? "any other package" : reasons.isEmpty() ? base : "other packages in " + base)
                    + ": " + UNTESTED);
        }
        StringBuilder s = new StringBuilder("option 'jdk' may not name ").append(Quote.of(text))
                .append(": it would weave JDK code that a cancellation can leave broken for the rest of the program:");
        for (String r : reasons) {
            s.append("\n  ").append(r);
        }
        return s.append("\nOnly these JDK packages may be woven (they compute only over the caller's own objects): ")
                .append(String.join(", ", ALLOWED)).append(", e.g. jdk=").append(ALLOWED.get(0)).toString();
    }

    /**
     * Whether a refused package's reason holds for {@code name} inside it: java.util's only for its own
     * classes (by convention capitalized), not for subpackages such as java.util.zip.
     */
    private static boolean covers(String pkg, String name) {
        String rest = name.substring(pkg.length() + 1);
        return !pkg.equals("java.util") || (rest.indexOf('.') < 0 && Character.isUpperCase(rest.charAt(0)));
    }

    private static boolean isListed(String name) {
        for (String[] r : REFUSED) {
            if (r[0].equals(name)) {
                return true;
            }
        }
        return false;
    }
}
