package dev.usethread.internal;

import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Code a poll's signal must not cut short; the first poll after it throws instead
 * (docs/HOW-IT-WORKS.md, "Where a poll waits").
 *
 * <ul>
 * <li>A static initializer: a signal escaping it would make the class unusable for the life of its
 * loader (NoClassDefFoundError on every later use, by any thread). Waits however long it runs.
 * <li>A resource being acquired, wrapped or released: a method that returns an {@code AutoCloseable}
 * (a pool's {@code getConnection()}), a constructor of an {@code AutoCloseable} class, or a method
 * named {@code close}, {@code unlock} or {@code release}. Cut short, it leaks the resource: a
 * connection borrowed but not yet handed over, or whose {@code close()} stopped half-way, never goes
 * back to its pool. As Haskell's {@code bracket} masks its acquire and release. Waits at most
 * {@link #RESOURCE_POLLS} polls ({@code usethread.resourcePolls}, 10,000) or {@link #RESOURCE_NANOS}
 * ({@code usethread.resourceMillis}, 100 ms) per cancellation, whichever comes first: a pool's
 * operations take tens of polls, and a long computation inside such a method (a query that
 * {@code executeQuery} runs) is still stopped, a fraction of a millisecond later.
 * </ul>
 */
final class ProtectedCode {
    static final int NONE = 0;
    static final int INITIALIZER = 1;
    static final int RESOURCE = 2;

    static final long RESOURCE_NANOS =
            TimeUnit.MILLISECONDS.toNanos(Long.getLong("usethread.resourceMillis", 100L));
    static final long RESOURCE_POLLS = Long.getLong("usethread.resourcePolls", 10_000L);

    /** Sees what a stack trace shows: reflection frames too, hidden frames not. */
    private static final StackWalker CLASSES = StackWalker.getInstance(
            java.util.Set.of(StackWalker.Option.RETAIN_CLASS_REFERENCE, StackWalker.Option.SHOW_REFLECT_FRAMES));
    private static final ResourceFinder RESOURCE_FINDER = new ResourceFinder();
    /**
     * Whether a method (class and method name; overloads share an entry, true wins) acquires or
     * constructs a resource, as walks found it: a stack trace has names only, and a walk that sees
     * classes and descriptors costs the first cancellation of a code path about 0.1 ms while the
     * slow path still runs interpreted.
     */
    private static final ConcurrentHashMap<FrameKey, Boolean> KNOWN = new ConcurrentHashMap<>();
    private static final int KNOWN_LIMIT = 50_000;

    private ProtectedCode() {
    }

    /** What protected code is on this thread's stack, whose stack trace (innermost first) is {@code frames}. */
    static int of(StackTraceElement[] frames) {
        int found = NONE;
        boolean unknown = false;
        for (StackTraceElement frame : frames) {
            String method = frame.getMethodName();
            if (method.equals("<clinit>")) {
                return INITIALIZER;
            }
            if (method.equals("close") || method.equals("unlock") || method.equals("release")) {
                found = RESOURCE;
            } else if (found == NONE && !unknown && RESOURCE_NANOS > 0) {
                Boolean known = KNOWN.get(new FrameKey(frame.getClassName(), method));
                if (known == null) {
                    unknown = true;
                } else if (known) {
                    found = RESOURCE;
                }
            }
        }
        if (found != NONE || !unknown) {
            return found;
        }
        found = CLASSES.walk(RESOURCE_FINDER) ? RESOURCE : NONE;
        for (StackTraceElement frame : frames) { // so that the same stack is never walked again
            KNOWN.putIfAbsent(new FrameKey(frame.getClassName(), frame.getMethodName()), Boolean.FALSE);
        }
        return found;
    }

    /** Whether {@code frame} constructs an AutoCloseable or is a method that returns one. */
    static boolean handlesResource(StackWalker.StackFrame frame) {
        Class<?> owner = frame.getDeclaringClass();
        if (frame.getMethodName().equals("<init>")) {
            return AutoCloseable.class.isAssignableFrom(owner);
        }
        String descriptor = frame.getDescriptor();
        int ret = descriptor.lastIndexOf(')') + 1;
        if (descriptor.charAt(ret) != 'L' || descriptor.startsWith("Ljava/lang/Object;", ret)
                || descriptor.startsWith("Ljava/lang/String;", ret)) {
            return false;
        }
        String name = descriptor.substring(ret + 1, descriptor.length() - 1).replace('/', '.');
        try {
            // The returned type is almost always loaded already: the method is about to return one.
            return AutoCloseable.class.isAssignableFrom(Class.forName(name, false, owner.getClassLoader()));
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /**
     * Walks the whole stack, records what each frame does in {@link #KNOWN}, and tells whether one
     * handles a resource. A class, not a lambda: the slow path should not bootstrap invokedynamic call sites.
     */
    private static final class ResourceFinder implements Function<Stream<StackWalker.StackFrame>, Boolean> {
        @Override
        public Boolean apply(Stream<StackWalker.StackFrame> frames) {
            if (KNOWN.size() > KNOWN_LIMIT) { // generated classes without end: start over
                KNOWN.clear();
            }
            boolean any = false;
            Iterator<StackWalker.StackFrame> it = frames.iterator();
            while (it.hasNext()) {
                StackWalker.StackFrame frame = it.next();
                FrameKey key = new FrameKey(frame.getClassName(), frame.getMethodName());
                if (handlesResource(frame)) {
                    KNOWN.put(key, Boolean.TRUE);
                    any = true;
                } else {
                    KNOWN.putIfAbsent(key, Boolean.FALSE);
                }
            }
            return any;
        }
    }

    /**
     * A method's class and name, as a stack trace shows them. Not a record: a record's equals and
     * hashCode link an invokedynamic call site on first use, on the first cancellation's path.
     */
    private static final class FrameKey {
        final String className;
        final String method;

        FrameKey(String className, String method) {
            this.className = className;
            this.method = method;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FrameKey && ((FrameKey) o).className.equals(className) && ((FrameKey) o).method.equals(method);
        }

        @Override
        public int hashCode() {
            return className.hashCode() * 31 + method.hashCode();
        }
    }
}
