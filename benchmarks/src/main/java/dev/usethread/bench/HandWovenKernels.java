package dev.usethread.bench;

import dev.usethread.internal.Poll;

/**
 * {@link Kernels} woven by hand: {@code Poll.poll()} at every method entry and before every loop
 * back-edge, which is exactly what the agent inserts. Used until the agent weaves {@link Kernels}.
 */
public final class HandWovenKernels {
    private HandWovenKernels() {
        Poll.poll();
    }

    public static int intSum(int[] a) {
        Poll.poll();
        int s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i];
            Poll.poll(); // back-edge
        }
        return s;
    }

    public static long longLoop(long n) {
        Poll.poll();
        long s = 0;
        for (long i = 0; i < n; i++) {
            s += i ^ (i >>> 3);
            Poll.poll(); // back-edge
        }
        return s;
    }

    public static void vectorAdd(int[] a, int[] b, int[] c) {
        Poll.poll();
        for (int i = 0; i < c.length; i++) {
            c[i] = a[i] + b[i];
            Poll.poll(); // back-edge
        }
    }

    public static void matMul(double[] a, double[] b, double[] c, int n) {
        Poll.poll();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    s += a[i * n + k] * b[k * n + j];
                    Poll.poll(); // back-edge
                }
                c[i * n + j] = s;
                Poll.poll(); // back-edge
            }
            Poll.poll(); // back-edge
        }
    }

    public static int fib(int n) {
        Poll.poll();
        return n < 2 ? n : fib(n - 1) + fib(n - 2);
    }

    public static double shapes(WovenShape[] shapes) {
        Poll.poll();
        double s = 0;
        for (WovenShape shape : shapes) {
            s += shape.area();
            Poll.poll(); // back-edge
        }
        return s;
    }

    public static long listWalk(WovenNode head) {
        Poll.poll();
        long s = 0;
        for (WovenNode n = head; n != null; n = n.next) {
            s += n.value;
            Poll.poll(); // back-edge
        }
        return s;
    }

    /** A hot counted loop for the latency and frequent-cancellation benchmarks. */
    public static int countedSpin(int n) {
        Poll.poll();
        int s = 0;
        for (int i = 0; i < n; i++) {
            s += (i * i) ^ (s >>> 7);
            Poll.poll(); // back-edge
        }
        return s;
    }

    public interface WovenShape {
        double area();
    }

    public static final class WSquare implements WovenShape {
        final double side;

        public WSquare(double side) {
            Poll.poll();
            this.side = side;
        }

        @Override
        public double area() {
            Poll.poll();
            return side * side;
        }
    }

    public static final class WCircle implements WovenShape {
        final double radius;

        public WCircle(double radius) {
            Poll.poll();
            this.radius = radius;
        }

        @Override
        public double area() {
            Poll.poll();
            return Math.PI * radius * radius;
        }
    }

    public static final class WRect implements WovenShape {
        final double w;
        final double h;

        public WRect(double w, double h) {
            Poll.poll();
            this.w = w;
            this.h = h;
        }

        @Override
        public double area() {
            Poll.poll();
            return w * h;
        }
    }

    public static final class WovenNode {
        public final long value;
        public WovenNode next;

        public WovenNode(long value) {
            Poll.poll();
            this.value = value;
        }
    }
}
