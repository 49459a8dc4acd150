package dev.usethread.bench;

import java.util.Random;

/**
 * A short workload from JVM start (about a second): every idle-suite kernel, either as written or
 * hand-woven. run.sh times whole JVM runs of each variant and compares them.
 */
public final class Warmup {
    static volatile long sink;

    public static void main(String[] args) {
        boolean woven = args.length > 0 && args[0].equals("handWoven");
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
        Random r = new Random(3);
        int[] ints = r.ints(4096).toArray();
        int[] a = r.ints(1024).toArray();
        int[] b = r.ints(1024).toArray();
        int[] c = new int[1024];
        double[] ma = r.doubles(32 * 32).toArray();
        double[] mb = r.doubles(32 * 32).toArray();
        double[] mc = new double[32 * 32];
        Kernels.Node list = null;
        HandWovenKernels.WovenNode wlist = null;
        Kernels.Shape[] shapes = new Kernels.Shape[512];
        HandWovenKernels.WovenShape[] wshapes = new HandWovenKernels.WovenShape[512];
        for (int i = 0; i < 512; i++) {
            shapes[i] = i % 2 == 0 ? new Kernels.Square(i) : new Kernels.Circle(i);
            wshapes[i] = i % 2 == 0 ? new HandWovenKernels.WSquare(i) : new HandWovenKernels.WCircle(i);
        }
        for (int i = 0; i < 2048; i++) {
            Kernels.Node n = new Kernels.Node(i);
            n.next = list;
            list = n;
            HandWovenKernels.WovenNode w = new HandWovenKernels.WovenNode(i);
            w.next = wlist;
            wlist = w;
        }
        long s = 0;
        long start = System.nanoTime();
        for (int round = 0; round < rounds; round++) {
            if (woven) {
                s += HandWovenKernels.intSum(ints);
                s += HandWovenKernels.longLoop(2048);
                HandWovenKernels.vectorAdd(a, b, c);
                HandWovenKernels.matMul(ma, mb, mc, 32);
                s += HandWovenKernels.fib(15);
                s += (long) HandWovenKernels.shapes(wshapes);
                s += HandWovenKernels.listWalk(wlist);
            } else {
                s += Kernels.intSum(ints);
                s += Kernels.longLoop(2048);
                Kernels.vectorAdd(a, b, c);
                Kernels.matMul(ma, mb, mc, 32);
                s += Kernels.fib(15);
                s += (long) Kernels.shapes(shapes);
                s += Kernels.listWalk(list);
            }
        }
        sink = s + c[3] + (long) mc[5];
        System.out.println((System.nanoTime() - start) / 1_000_000);
    }
}
