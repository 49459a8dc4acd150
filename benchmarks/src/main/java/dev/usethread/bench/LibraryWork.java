package dev.usethread.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.common.collect.ImmutableSortedMultiset;
import java.util.List;
import java.util.Random;
import java.util.function.IntSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.math3.transform.DftNormalization;
import org.apache.commons.math3.transform.FastFourierTransformer;
import org.apache.commons.math3.transform.TransformType;
import org.mozilla.javascript.Context;
import org.mozilla.javascript.Script;
import org.mozilla.javascript.Scriptable;

/**
 * Real library requests, as the idle suite's {@code lib_*} benchmarks run them, for the plain-main
 * benchmarks (frequent cancellation, the deadline service, cancel cost). Woven only when the JVM runs
 * the agent ({@code jdk=java.util.regex} for the regex ones). Each request is bound to the thread
 * that creates it: Rhino keeps its {@link Context} per thread.
 */
public final class LibraryWork {
    /** The good requests, in the order a service cycles through them. */
    public static final List<String> REQUESTS = List.of("jacksonParse", "rhinoScript", "regex", "guavaMultiset");
    /** Requests that never end by themselves: only a deadline stops them (with the agent). */
    public static final List<String> PATHOLOGICAL = List.of("catastrophicRegex", "endlessRhino");
    /** The same code as {@link #PATHOLOGICAL}, bounded: each ends by itself after tens of milliseconds. */
    public static final List<String> BOUNDED = List.of("boundedRegex", "boundedRhino");

    private LibraryWork() {
    }

    /** A request of the given kind for the calling thread; each call of the supplier serves one. */
    public static IntSupplier create(String name) {
        Random r = new Random(42);
        return switch (name) {
            case "jacksonParse" -> {
                ObjectMapper mapper = new ObjectMapper();
                StringBuilder js = new StringBuilder("{\"items\":[");
                for (int i = 0; i < 100; i++) {
                    js.append(i == 0 ? "" : ",").append("{\"id\":").append(i).append(",\"name\":\"item")
                            .append(i).append("\",\"tags\":[\"a\",\"b\"],\"price\":").append(i * 1.25).append('}');
                }
                String json = js.append("]}").toString();
                yield () -> {
                    try {
                        return mapper.readTree(json).get("items").size();
                    } catch (java.io.IOException e) {
                        throw new IllegalStateException(e);
                    }
                };
            }
            case "rhinoScript" -> rhino("var s = 0; for (var i = 0; i < 2000; i++) { s += (i * 7) % 13; } s");
            case "endlessRhino" -> rhino("var s = 0; while (true) { s = (s + 7) % 13; } s");
            case "boundedRhino" -> rhino("var s = 0; for (var i = 0; i < 250000; i++) { s = (s + 7) % 13; } s");
            case "regex" -> {
                Pattern pattern = Pattern.compile("(\\w+)@(\\w+)\\.(com|org|net)");
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < 200; i++) {
                    sb.append("contact user").append(i).append("@example").append(i % 7).append(".org, ");
                }
                String text = sb.toString();
                yield () -> {
                    Matcher m = pattern.matcher(text);
                    int n = 0;
                    while (m.find()) {
                        n += m.group(2).length();
                    }
                    return n;
                };
            }
            case "catastrophicRegex" -> {
                // Exponential backtracking that java.util.regex does not cut short (it does for
                // "(a+)+$"): 20 x's take about a second, 48 never end.
                Pattern pattern = Pattern.compile("((x+)\\2?)+y");
                String text = "x".repeat(48);
                yield () -> pattern.matcher(text).matches() ? 1 : 0;
            }
            case "boundedRegex" -> {
                Pattern pattern = Pattern.compile("((x+)\\2?)+y");
                String text = "x".repeat(17);
                yield () -> pattern.matcher(text).matches() ? 1 : 0;
            }
            case "guavaMultiset" -> {
                int[] values = r.ints(2000, 0, 500).toArray();
                yield () -> {
                    ImmutableSortedMultiset.Builder<Integer> builder = ImmutableSortedMultiset.naturalOrder();
                    for (int v : values) {
                        builder.add(v);
                    }
                    return builder.build().size();
                };
            }
            case "commonsMathFft" -> {
                double[] signal = r.doubles(4096).toArray();
                FastFourierTransformer fft = new FastFourierTransformer(DftNormalization.STANDARD);
                yield () -> (int) fft.transform(signal, TransformType.FORWARD)[7].getReal();
            }
            default -> throw new IllegalArgumentException("unknown library request '" + name
                    + "'; known: " + REQUESTS + ", commonsMathFft, " + PATHOLOGICAL + ", " + BOUNDED);
        };
    }

    /** A compiled script run by Rhino's interpreter (a loop in Rhino's own code, like a sandbox). */
    private static IntSupplier rhino(String source) {
        Context cx = Context.enter(); // stays entered for the thread's life
        cx.setOptimizationLevel(-1);
        Scriptable scope = cx.initStandardObjects();
        Script script = cx.compileString(source, "request", 1, null);
        return () -> ((Number) script.exec(cx, scope)).intValue();
    }
}
