package dev.usethread.agent.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

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
            "  jdk=<patterns>      also weave these JDK packages, e.g. java.util.regex (java.lang.*, jdk.internal.*,",
            "                      sun.* and com.sun.* are never woven)",
            "  verbose[=true|false] print what is woven at start-up and a summary at exit",
            "  dump=<directory>    write every woven class file under this directory",
            "  propagate=true|false tasks a job hands to executors, ForkJoin and CompletableFuture run under the",
            "                      job's cancellation (default true)",
            "  config=<file>       read options from this properties file",
            "Patterns are comma-separated class-name globs: '*' matches within one name part, '**' across dots;",
            "a name without wildcards means that package and its subpackages (com.acme = com.acme.**).");

    /** Option names in the order they are documented. */
    public static final List<String> OPTIONS =
            List.of("include", "exclude", "jdk", "verbose", "dump", "config", "propagate");

    private final List<ClassPattern> include;
    private final List<ClassPattern> exclude;
    private final List<ClassPattern> jdk;
    private final boolean verbose;
    private final Path dump;
    private final boolean propagate;
    private final Map<String, String> effective;

    private AgentConfig(Map<String, String> values) {
        this.effective = Collections.unmodifiableMap(values);
        this.include = patterns(values, "include");
        this.exclude = patterns(values, "exclude");
        this.jdk = patterns(values, "jdk");
        this.verbose = bool(values, "verbose");
        String d = values.get("dump");
        if (d != null && d.isEmpty()) {
            throw new ConfigException("usethread agent: option 'dump' needs a directory (dump=<directory>)");
        }
        this.dump = d == null ? null : Paths.get(d);
        this.propagate = !values.containsKey("propagate") || bool(values, "propagate");
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
        values.putAll(fromProps);
        values.putAll(fromArgs);
        return new AgentConfig(values);
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
                    throw new ConfigException("usethread agent: option '" + name + "' needs a value (" + name + "=...)");
                }
                value = "true";
            }
            out.put(name, value);
        }
        return out;
    }

    private static Map<String, String> readFile(String file) {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(Paths.get(file))) {
            p.load(in);
        } catch (IOException | RuntimeException e) {
            throw new ConfigException("usethread agent: cannot read config file '" + file + "': " + e);
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (String key : p.stringPropertyNames()) {
            String name = key.startsWith("usethread.") ? key.substring("usethread.".length()) : key;
            checkName(name, "config file " + file);
            if (name.equals("config")) {
                throw new ConfigException("usethread agent: option 'config' is not allowed inside config file " + file);
            }
            out.put(name, p.getProperty(key).trim());
        }
        return out;
    }

    private static void checkName(String name, String where) {
        if (!OPTIONS.contains(name)) {
            throw new ConfigException("usethread agent: unknown option '" + name + "' (in " + where + ")");
        }
    }

    private static List<ClassPattern> patterns(Map<String, String> values, String name) {
        String v = values.get(name);
        List<ClassPattern> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        for (String item : v.split(",", -1)) {
            try {
                out.add(ClassPattern.parse(item.trim()));
            } catch (IllegalArgumentException e) {
                throw new ConfigException("usethread agent: malformed pattern in option '" + name + "=" + v + "': "
                        + e.getMessage());
            }
        }
        return out;
    }

    private static boolean bool(Map<String, String> values, String name) {
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
                throw new ConfigException("usethread agent: option '" + name + "' takes true or false, not '" + v + "'");
        }
    }

    /** Application classes (not the JDK's): in {@code include} (or no include given) and not excluded. */
    public boolean weavesApplicationClass(String className) {
        return (include.isEmpty() || any(include, className)) && !any(exclude, className);
    }

    /** JDK classes: only those opted in with {@code jdk}, never excluded ones. */
    public boolean weavesJdkClass(String className) {
        return any(jdk, className) && !any(exclude, className);
    }

    public boolean hasJdkPatterns() {
        return !jdk.isEmpty();
    }

    private static boolean any(List<ClassPattern> list, String className) {
        for (ClassPattern p : list) {
            if (p.matches(className)) {
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

    /** Whether work handed to other threads follows the job's cancellation (on unless turned off). */
    public boolean propagate() {
        return propagate;
    }

    /** The options in effect, for the verbose start-up line. */
    public Map<String, String> effective() {
        return effective;
    }

    public static String usage() {
        return USAGE;
    }
}
