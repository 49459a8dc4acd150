package dev.usethread.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.common.collect.ImmutableSortedMultiset;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.math3.complex.Complex;
import org.apache.commons.math3.transform.DftNormalization;
import org.apache.commons.math3.transform.FastFourierTransformer;
import org.apache.commons.math3.transform.TransformType;
import org.mozilla.javascript.Context;
import org.mozilla.javascript.Script;
import org.mozilla.javascript.ScriptableObject;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Idle overhead: no cancellation pending. Each kernel runs as {@code name} ({@link Kernels}, woven
 * only when the fork has the agent) and {@code name_handWoven} ({@link HandWovenKernels}, polls
 * placed by hand exactly where the agent weaves them). {@code lib_*} benchmarks run real library
 * code, which only the agent weaves.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
public class Idle {
    int[] ints;
    int[] a;
    int[] b;
    int[] c;
    double[] ma;
    double[] mb;
    double[] mc;
    static final int MAT = 48;
    Kernels.Shape[] shapes;
    HandWovenKernels.WovenShape[] wovenShapes;
    Kernels.Node list;
    HandWovenKernels.WovenNode wovenList;

    Pattern pattern;
    String text;
    ObjectMapper mapper;
    String json;
    Context rhino;
    ScriptableObject rhinoScope;
    Script script;
    int[] multiset;
    double[] signal;
    FastFourierTransformer fft;

    @Setup
    public void setUp() {
        Random r = new Random(42);
        ints = r.ints(4096).toArray();
        a = r.ints(1024).toArray();
        b = r.ints(1024).toArray();
        c = new int[1024];
        ma = r.doubles(MAT * MAT).toArray();
        mb = r.doubles(MAT * MAT).toArray();
        mc = new double[MAT * MAT];
        shapes = new Kernels.Shape[1024];
        wovenShapes = new HandWovenKernels.WovenShape[1024];
        for (int i = 0; i < shapes.length; i++) {
            double d = r.nextDouble();
            switch (i % 3) {
                case 0 -> { shapes[i] = new Kernels.Square(d); wovenShapes[i] = new HandWovenKernels.WSquare(d); }
                case 1 -> { shapes[i] = new Kernels.Circle(d); wovenShapes[i] = new HandWovenKernels.WCircle(d); }
                default -> { shapes[i] = new Kernels.Rect(d, 2); wovenShapes[i] = new HandWovenKernels.WRect(d, 2); }
            }
        }
        for (int i = 0; i < 4096; i++) {
            Kernels.Node n = new Kernels.Node(i);
            n.next = list;
            list = n;
            HandWovenKernels.WovenNode w = new HandWovenKernels.WovenNode(i);
            w.next = wovenList;
            wovenList = w;
        }

        pattern = Pattern.compile("(\\w+)@(\\w+)\\.(com|org|net)");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            sb.append("contact user").append(i).append("@example").append(i % 7).append(".org, ");
        }
        text = sb.toString();
        mapper = new ObjectMapper();
        StringBuilder js = new StringBuilder("{\"items\":[");
        for (int i = 0; i < 100; i++) {
            js.append(i == 0 ? "" : ",").append("{\"id\":").append(i).append(",\"name\":\"item")
                    .append(i).append("\",\"tags\":[\"a\",\"b\"],\"price\":").append(i * 1.25).append('}');
        }
        json = js.append("]}").toString();
        rhino = Context.enter();
        rhino.setOptimizationLevel(-1); // the interpreter: a loop in Rhino's own code, like a sandbox
        rhinoScope = rhino.initStandardObjects();
        script = rhino.compileString(
                "var s = 0; for (var i = 0; i < 2000; i++) { s += (i * 7) % 13; } s", "bench", 1, null);
        multiset = r.ints(2000, 0, 500).toArray();
        signal = r.doubles(4096).toArray();
        fft = new FastFourierTransformer(DftNormalization.STANDARD);
    }

    @TearDown
    public void tearDown() {
        Context.exit();
    }

    @Benchmark public int intSum() { return Kernels.intSum(ints); }
    @Benchmark public int intSum_handWoven() { return HandWovenKernels.intSum(ints); }

    @Benchmark public long longLoop() { return Kernels.longLoop(4096); }
    @Benchmark public long longLoop_handWoven() { return HandWovenKernels.longLoop(4096); }

    @Benchmark public int[] vectorAdd() { Kernels.vectorAdd(a, b, c); return c; }
    @Benchmark public int[] vectorAdd_handWoven() { HandWovenKernels.vectorAdd(a, b, c); return c; }

    @Benchmark public double[] nestedMatMul() { Kernels.matMul(ma, mb, mc, MAT); return mc; }
    @Benchmark public double[] nestedMatMul_handWoven() { HandWovenKernels.matMul(ma, mb, mc, MAT); return mc; }

    @Benchmark public int recursiveFib() { return Kernels.fib(20); }
    @Benchmark public int recursiveFib_handWoven() { return HandWovenKernels.fib(20); }

    @Benchmark public double virtualCalls() { return Kernels.shapes(shapes); }
    @Benchmark public double virtualCalls_handWoven() { return HandWovenKernels.shapes(wovenShapes); }

    @Benchmark public long listWalk() { return Kernels.listWalk(list); }
    @Benchmark public long listWalk_handWoven() { return HandWovenKernels.listWalk(wovenList); }

    @Benchmark
    public int lib_regex() {
        Matcher m = pattern.matcher(text);
        int n = 0;
        while (m.find()) {
            n += m.group(2).length();
        }
        return n;
    }

    @Benchmark
    public JsonNode lib_jacksonParse() throws Exception {
        return mapper.readTree(json);
    }

    @Benchmark
    public Object lib_rhinoScript() {
        return script.exec(rhino, rhinoScope);
    }

    @Benchmark
    public ImmutableSortedMultiset<Integer> lib_guavaMultiset() {
        ImmutableSortedMultiset.Builder<Integer> builder = ImmutableSortedMultiset.naturalOrder();
        for (int v : multiset) {
            builder.add(v);
        }
        return builder.build();
    }

    @Benchmark
    public Complex[] lib_commonsMathFft() {
        return fft.transform(signal, TransformType.FORWARD);
    }
}
