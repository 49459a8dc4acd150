package dev.usethread.it.scenarios;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;

/** A long computation inside a real library: a large dense matrix product in commons-math. */
public final class LibraryComputation {
    public static void main(String[] args) {
        int n = 2000; // minutes of work uncancelled
        double[][] data = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                data[i][j] = (i * 31 + j) % 17;
            }
        }
        Array2DRowRealMatrix m = new Array2DRowRealMatrix(data, false);
        Harness.run("commons-math", () -> m.multiply(m).multiply(m).multiply(m).getTrace(),
                Harness.inClass("org.apache.commons.math3.linear."));
    }
}
