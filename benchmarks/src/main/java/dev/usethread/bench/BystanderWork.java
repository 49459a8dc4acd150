package dev.usethread.bench;

import java.util.List;
import java.util.Random;
import java.util.function.IntSupplier;

/**
 * What a bystander thread runs: every idle-suite kernel as written ({@link Kernels}, woven only by
 * the agent) and the library requests of {@link LibraryWork}. Create it on the thread that runs it.
 */
final class BystanderWork {
    static volatile int sink;

    static final List<String> KERNELS = List.of(
            "intSum", "longLoop", "vectorAdd", "nestedMatMul", "recursiveFib", "virtualCalls", "listWalk");
    static final List<String> LIBRARIES = List.of(
            "jacksonParse", "rhinoScript", "regex", "guavaMultiset", "commonsMathFft");

    private BystanderWork() {
    }

    static IntSupplier create(String name) {
        if (LIBRARIES.contains(name)) {
            return LibraryWork.create(name);
        }
        Random r = new Random(1);
        int[] ints = r.ints(4096).toArray();
        int[] a = r.ints(1024).toArray();
        int[] b = r.ints(1024).toArray();
        int[] c = new int[1024];
        int mat = 48;
        double[] ma = r.doubles(mat * mat).toArray();
        double[] mb = r.doubles(mat * mat).toArray();
        double[] mc = new double[mat * mat];
        Kernels.Shape[] shapes = new Kernels.Shape[1024];
        for (int i = 0; i < shapes.length; i++) {
            double d = r.nextDouble();
            shapes[i] = switch (i % 3) {
                case 0 -> new Kernels.Square(d);
                case 1 -> new Kernels.Circle(d);
                default -> new Kernels.Rect(d, 2);
            };
        }
        Kernels.Node list = null;
        for (int i = 0; i < 4096; i++) {
            Kernels.Node n = new Kernels.Node(i);
            n.next = list;
            list = n;
        }
        Kernels.Node head = list;
        return switch (name) {
            case "intSum" -> () -> Kernels.intSum(ints);
            case "longLoop" -> () -> (int) Kernels.longLoop(4096);
            case "vectorAdd" -> () -> {
                Kernels.vectorAdd(a, b, c);
                return c[7];
            };
            case "nestedMatMul" -> () -> {
                Kernels.matMul(ma, mb, mc, mat);
                return (int) mc[5];
            };
            case "recursiveFib" -> () -> Kernels.fib(20);
            case "virtualCalls" -> () -> (int) Kernels.shapes(shapes);
            case "listWalk" -> () -> (int) Kernels.listWalk(head);
            default -> throw new IllegalArgumentException("unknown bystander workload '" + name
                    + "'; known: " + KERNELS + ", " + LIBRARIES);
        };
    }

    /** Runs {@code work} for {@code millis}; returns operations per second. */
    static double run(IntSupplier work, long millis) {
        long start = System.nanoTime();
        long end = start + millis * 1_000_000;
        long ops = 0;
        int s = 0;
        while (System.nanoTime() < end) {
            for (int i = 0; i < 8; i++) {
                s += work.getAsInt();
            }
            ops += 8;
        }
        sink = s;
        return ops / ((System.nanoTime() - start) / 1e9);
    }
}
