package dev.usethread.bench;

/**
 * The idle-overhead kernels as written, without polls. {@link HandWovenKernels} is the same code
 * with a {@code Poll.poll()} call where the agent weaves one (method entry, every loop back-edge).
 * Keep the two classes line-for-line alike.
 */
public final class Kernels {
    private Kernels() {
    }

    public static int intSum(int[] a) {
        int s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i];
        }
        return s;
    }

    public static long longLoop(long n) {
        long s = 0;
        for (long i = 0; i < n; i++) {
            s += i ^ (i >>> 3);
        }
        return s;
    }

    public static void vectorAdd(int[] a, int[] b, int[] c) {
        for (int i = 0; i < c.length; i++) {
            c[i] = a[i] + b[i];
        }
    }

    public static void matMul(double[] a, double[] b, double[] c, int n) {
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    s += a[i * n + k] * b[k * n + j];
                }
                c[i * n + j] = s;
            }
        }
    }

    public static int fib(int n) {
        return n < 2 ? n : fib(n - 1) + fib(n - 2);
    }

    public static double shapes(Shape[] shapes) {
        double s = 0;
        for (Shape shape : shapes) {
            s += shape.area();
        }
        return s;
    }

    public static long listWalk(Node head) {
        long s = 0;
        for (Node n = head; n != null; n = n.next) {
            s += n.value;
        }
        return s;
    }

    /** A hot counted loop for the latency and frequent-cancellation benchmarks. */
    public static int countedSpin(int n) {
        int s = 0;
        for (int i = 0; i < n; i++) {
            s += (i * i) ^ (s >>> 7);
        }
        return s;
    }

    public interface Shape {
        double area();
    }

    public static final class Square implements Shape {
        final double side;

        public Square(double side) {
            this.side = side;
        }

        @Override
        public double area() {
            return side * side;
        }
    }

    public static final class Circle implements Shape {
        final double radius;

        public Circle(double radius) {
            this.radius = radius;
        }

        @Override
        public double area() {
            return Math.PI * radius * radius;
        }
    }

    public static final class Rect implements Shape {
        final double w;
        final double h;

        public Rect(double w, double h) {
            this.w = w;
            this.h = h;
        }

        @Override
        public double area() {
            return w * h;
        }
    }

    public static final class Node {
        public final long value;
        public Node next;

        public Node(long value) {
            this.value = value;
        }
    }
}
