package dev.usethread.agent.config;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The agent's options. Sources, later ones winning: a properties file named by {@code config}, the
 * {@code usethread.*} system properties, the agent argument string
 * ({@code include=com.acme.**;exclude=com.acme.gen.**;jdk=java.util.regex;verbose;dump=/tmp/w}).
 */
public final class AgentConfig {
    static final String USAGE = String.join("\n",
            "Valid options (agent arguments 'name=value;name=value', system properties 'usethread.<name>',",
            "or lines 'name=value' in the properties file named by config):",
            "  include=<patterns>  weave only these classes (default: every class that is not the JDK's)",
            "  exclude=<patterns>  never weave these classes",
            "  jdk=<patterns>      also weave these JDK packages: java.util.regex, java.math (no others: a stop",
            "                      inside them would leave shared JDK state, such as locks and queues, broken)",
            "  verbose[=true|false] print what is woven at start-up and a summary at exit",
            "  dump=<directory>    write every woven class file under this directory",
            "  cache=<directory>   keep woven classes in this directory across runs: later start-ups copy them",
            "                      instead of weaving again (written at exit, only for this agent build)",
            "  propagate=true|false tasks a job hands to executors, ForkJoin and CompletableFuture run under the",
            "                      job's cancellation (default true)",
            "  executors=interrupt|intrusive with intrusive, FutureTask.cancel(true) and completing a CompletableFuture",
            "                      before its async task stop that task at its next poll (default interrupt)",
            "  config=<file>       read options from this properties file",
            "Patterns are comma-separated class-name globs: '*' matches within one name part, '**' across dots;",
            "a name without wildcards means that package and its subpackages (com.acme = com.acme.**).");

    /** Option names in the order they are documented. */
    public static final List<String> OPTIONS =
            List.of("include", "exclude", "jdk", "verbose", "dump", "cache", "config", "propagate", "executors");

    /** A config file holds a few lines; anything bigger is a mistake, and must not cost the JVM its heap. */
    static final int MAX_FILE_BYTES = 64 * 1024;

    // Arrays, not lists: they are matched against every class the JVM loads, mostly before the JIT
    // has compiled the matching, and an iterator per list showed in the start-up profile.
    private final ClassPattern[] include;
    private final ClassPattern[] exclude;
    private final ClassPattern[] jdk;
    private final boolean verbose;
    private final Path dump;
    private final Path cache;
    private final boolean propagate;
    private final boolean intrusiveExecutors;
    private final Map<String, String> effective;
    /** Options whose value came from the config file, and that file: such values are never quoted back. */
    private final Set<String> fromFile;
    private final String file;

    private AgentConfig(Map<String, String> values, Set<String> fromFile, String file) {
        this.effective = Collections.unmodifiableMap(values);
        this.fromFile = fromFile;
        this.file = file;
        this.include = patterns(values, "include");
        this.exclude = patterns(values, "exclude");
        this.jdk = patterns(values, "jdk");
        for (ClassPattern p : jdk) {
            String refusal = JdkPackages.refusal(p);
            if (refusal != null) {
                throw new ConfigException("usethread agent: " + refusal);
            }
        }
        this.verbose = bool(values, "verbose");
        this.dump = directory(values, "dump");
        this.cache = directory(values, "cache");
        this.propagate = !values.containsKey("propagate") || bool(values, "propagate");
        String executors = values.getOrDefault("executors", "interrupt");
        if (!executors.equals("interrupt") && !executors.equals("intrusive")) {
            throw new ConfigException("usethread agent: option 'executors' takes interrupt or intrusive, not "
                    + (fromFile.contains("executors") ? "what config file " + Quote.of(file) + " says" : Quote.of(executors)));
        }
        this.intrusiveExecutors = executors.equals("intrusive");
    }

    /** Reads the options; throws {@link ConfigException} naming a bad option. */
    public static AgentConfig parse(String agentArgs, Properties systemProperties) {
        Map<String, String> fromArgs = parseArgs(agentArgs);
        Map<String, String> fromProps = new LinkedHashMap<>();
        for (String name : OPTIONS) {
            String v = systemProperties.getProperty("usethread." + name);
            if (v != null) {
                fromProps.put(name, v.trim());
            }
        }
        String file = fromArgs.getOrDefault("config", fromProps.get("config"));
        Map<String, String> values = new LinkedHashMap<>();
        if (file != null) {
            values.putAll(readFile(file));
        }
        Set<String> fromFile = new java.util.HashSet<>(values.keySet());
        fromFile.removeAll(fromProps.keySet());
        fromFile.removeAll(fromArgs.keySet());
        values.putAll(fromProps);
        values.putAll(fromArgs);
        return new AgentConfig(values, fromFile, file);
    }

    private static Map<String, String> parseArgs(String args) {
        Map<String, String> out = new LinkedHashMap<>();
        if (args == null || args.isBlank()) {
            return out;
        }
        for (String item : args.split(";")) {
            String s = item.trim();
            if (s.isEmpty()) {
                continue;
            }
            int eq = s.indexOf('=');
            String name = (eq < 0 ? s : s.substring(0, eq)).trim();
            String value = eq < 0 ? null : s.substring(eq + 1).trim();
            checkName(name, "agent arguments");
            if (value == null) {
                if (!name.equals("verbose")) {
                    throw new ConfigException("usethread agent: option " + Quote.of(name) + " needs a value (" + name + "=...)");
                }
                value = "true";
            }
            out.put(name, value);
        }
        return out;
    }

    /**
     * Reads a regular file of at most {@link #MAX_FILE_BYTES}: a FIFO would block start-up, a device
     * such as /dev/zero never ends. Its content is never quoted back, except an unknown option name.
     */
    private static Map<String, String> readFile(String file) {
        String cannot = "usethread agent: cannot read config file " + Quote.of(file) + ": ";
        byte[] bytes;
        try {
            Path path = Paths.get(file);
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            if (!a.isRegularFile()) {
                throw new ConfigException(cannot + "not a regular file (a directory, device or pipe)");
            }
            try (InputStream in = Files.newInputStream(path)) {
                bytes = in.readNBytes(MAX_FILE_BYTES + 1);
            }
        } catch (NoSuchFileException e) {
            throw new ConfigException(cannot + "no such file");
        } catch (AccessDeniedException e) {
            throw new ConfigException(cannot + "permission denied");
        } catch (IOException | InvalidPathException e) {
            throw new ConfigException(cannot + e.getClass().getSimpleName());
        }
        if (bytes.length > MAX_FILE_BYTES) {
            throw new ConfigException(cannot + "larger than " + MAX_FILE_BYTES + " bytes");
        }
        Properties p = new Properties();
        try {
            p.load(new ByteArrayInputStream(bytes));
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigException(cannot + "not a properties file (malformed \\uxxxx escape)");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (String key : p.stringPropertyNames()) {
            String name = key.startsWith("usethread.") ? key.substring("usethread.".length()) : key;
            if (!OPTIONS.contains(name)) {
                throw new ConfigException("usethread agent: unknown option " + nameFromFile(name)
                        + " (in config file " + Quote.of(file) + ")");
            }
            if (name.equals("config")) {
                throw new ConfigException("usethread agent: option 'config' is not allowed inside config file "
                        + Quote.of(file));
            }
            out.put(name, p.getProperty(key).trim());
        }
        return out;
    }

    /** A misspelt option is worth showing; a long token or binary is more likely a secret or the wrong file. */
    private static String nameFromFile(String name) {
        boolean plain = name.length() <= 32;
        for (int i = 0; i < name.length() && plain; i++) {
            char c = name.charAt(i);
            plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
                    || c == '-';
        }
        return plain ? Quote.of(name) : "(a name of " + name.length() + " characters, not shown)";
    }

    private static void checkName(String name, String where) {
        if (!OPTIONS.contains(name)) {
            throw new ConfigException("usethread agent: unknown option " + Quote.of(name) + " (in " + where + ")");
        }
    }

    /** How a message names an option and its value: quoted, unless the value came from the config file. */
    private String shown(String name, String value) {
        return fromFile.contains(name) ? "'" + name + "' (in config file " + Quote.of(file) + ")"
                : Quote.of(name + "=" + value);
    }

    private ClassPattern[] patterns(Map<String, String> values, String name) {
        String v = values.get(name);
        List<ClassPattern> out = new ArrayList<>();
        if (v == null) {
            return new ClassPattern[0];
        }
        for (String item : v.split(",", -1)) {
            try {
                out.add(ClassPattern.parse(item.trim()));
            } catch (IllegalArgumentException e) {
                throw new ConfigException("usethread agent: malformed pattern in option " + shown(name, v)
                        + (fromFile.contains(name) ? "" : ": " + e.getMessage()));
            }
        }
        return out.toArray(new ClassPattern[0]);
    }

    private boolean bool(Map<String, String> values, String name) {
        String v = values.get(name);
        if (v == null) {
            return false;
        }
        switch (v.toLowerCase(Locale.ROOT)) {
            case "true":
            case "":
                return true;
            case "false":
                return false;
            default:
                throw new ConfigException("usethread agent: option '" + name + "' takes true or false, not "
                        + (fromFile.contains(name) ? "what config file " + Quote.of(file) + " says" : Quote.of(v)));
        }
    }

    /**
     * Libraries never woven: their internals keep state across calls without a {@code finally}, and a
     * signal thrown at a method entry in between breaks them for good. Measured with 1,600 random
     * deadlines on four threads sharing a cache (SafeStopsTest "caches"): Guava's
     * {@code LoadingCache} installs a key's loading placeholder, then calls more of its own code
     * before the {@code try} that completes it, and a key was left loading for ever (every later
     * {@code get} of it hung) in one run in six; Caffeine's write buffer, a lock-free queue, claims a
     * slot and then calls a method to fill it, and a producer stopped in between left the slot empty,
     * so the next {@code invalidateAll} spun for ever. JCTools, whose queue Caffeine's is, works the
     * same way. Unwoven, these libraries still stop a loader that runs too long: the loader is the
     * application's code, and woven. docs/AGENT.md lists them.
     */
    static final ClassPattern[] NEVER_WOVEN_LIBRARIES = {ClassPattern.parse("com.google.common.cache"),
            ClassPattern.parse("com.github.benmanes.caffeine"), ClassPattern.parse("org.jctools")};

    /**
     * Application classes (not the JDK's): in {@code include} (or no include given), not excluded,
     * and not one of {@link #NEVER_WOVEN_LIBRARIES}.
     */
    public boolean weavesApplicationClass(String className) {
        return (include.length == 0 || any(include, className)) && !any(exclude, className)
                && !any(NEVER_WOVEN_LIBRARIES, className);
    }

    /** JDK classes: only those opted in with {@code jdk}, never excluded ones. */
    public boolean weavesJdkClass(String className) {
        return any(jdk, className) && !any(exclude, className);
    }

    public boolean hasJdkPatterns() {
        return jdk.length > 0;
    }

    private static boolean any(ClassPattern[] patterns, String className) {
        for (int i = 0; i < patterns.length; i++) {
            if (patterns[i].matches(className)) {
                return true;
            }
        }
        return false;
    }

    public boolean verbose() {
        return verbose;
    }

    public Path dump() {
        return dump;
    }

    /** The directory of the woven-class cache, or null (no cache: the default). */
    public Path cache() {
        return cache;
    }

    /** A directory option's path, or null if not given; an empty or malformed one is refused. */
    private Path directory(Map<String, String> values, String name) {
        String v = values.get(name);
        if (v == null) {
            return null;
        }
        if (v.isEmpty()) {
            throw new ConfigException("usethread agent: option '" + name + "' needs a directory (" + name + "=<directory>)");
        }
        try {
            return Paths.get(v);
        } catch (InvalidPathException e) {
            throw new ConfigException("usethread agent: option " + shown(name, v) + " is not a path");
        }
    }

    /** Whether work handed to other threads follows the job's cancellation (on unless turned off). */
    public boolean propagate() {
        return propagate;
    }

    /** executors=intrusive: every FutureTask and CompletableFuture async task is stopped by its future's cancellation. */
    public boolean intrusiveExecutors() {
        return intrusiveExecutors;
    }

    /** The options in effect, for the verbose start-up line. */
    public Map<String, String> effective() {
        return effective;
    }

    public static String usage() {
        return USAGE;
    }
}
