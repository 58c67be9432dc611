package dev.sinew.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.sinew.DType;
import dev.sinew.spi.BackendOptions;
import dev.sinew.spi.View;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Matrix multiply against plain double loops: many shapes (1 x K, M x 1, K = 1, ragged sizes 1..130,
 * sizes across the KC/MC/NC block edges), every operand layout (row-major, transposed, strided with
 * gaps, batch stride 0), FLOAT32 and FLOAT64, on one thread and on two (with sizes that split into
 * unequal parts over N, over M and over batch entries). Output gaps must be left untouched. Also the
 * micro-kernel against its scalar form and the packing routines against the index formulas.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MatmulTest {
    private CpuBackend one;
    private CpuBackend two;

    @BeforeAll
    void open() {
        one = new CpuBackend(new BackendOptions(1, true));
        two = new CpuBackend(new BackendOptions(2, true));
    }

    @AfterAll
    void close() {
        one.close();
        two.close();
    }

    @AfterEach
    void nothingLive() {
        assertEquals(0, one.liveBuffers(), "live buffers (1 thread)");
        assertEquals(0, two.liveBuffers(), "live buffers (2 threads)");
        assertEquals(0, one.leakedBuffers() + two.leakedBuffers(), "leaked buffers");
    }

    /** How one [P, R, C] operand sits in its storage. */
    enum Layout {
        N, T, STRIDED, BATCH0;

        long[] strides(long p, long r, long c) {
            return switch (this) {
                case N -> new long[] {r * c, c, 1};
                case T -> new long[] {r * c, 1, r};
                case STRIDED -> new long[] {r * (2 * c + 1) + 5, 2 * c + 1, 2}; // gaps between elements, rows, entries
                case BATCH0 -> new long[] {0, c, 1};
            };
        }

        long offset() {
            return this == STRIDED ? 3 : 0;
        }

        long storage(long p, long r, long c) {
            long[] s = strides(p, r, c);
            return offset() + (p - 1) * s[0] + (r - 1) * s[1] + (c - 1) * s[2] + 1 + (this == STRIDED ? 4 : 0);
        }
    }

    private void check(CpuBackend b, DType dt, long p, long m, long k, long n, Layout la, Layout lb, Layout lc,
            SplittableRandom rnd) {
        String what = dt + " [" + p + ", " + m + ", " + k + "] x [" + p + ", " + k + ", " + n + "] " + la + lb + lc
                + " threads " + b.threads();
        double[] as = TestData.uniform(rnd, (int) la.storage(p, m, k), -1, 1);
        double[] bs = TestData.uniform(rnd, (int) lb.storage(p, k, n), -1, 1);
        double[] cs = TestData.uniform(rnd, (int) lc.storage(p, m, n), 100, 101); // sentinels in the gaps
        if (dt == DType.FLOAT32) { // the kernels see floats: compute the expectation from the same values
            for (double[] arr : new double[][] {as, bs, cs}) {
                for (int i = 0; i < arr.length; i++) {
                    arr[i] = (float) arr[i];
                }
            }
        }
        long[] sa = la.strides(p, m, k);
        long[] sb = lb.strides(p, k, n);
        long[] sc = lc.strides(p, m, n);
        View a = TestData.place(b, dt, as, la.offset(), new long[] {p, m, k}, sa);
        View bv = TestData.place(b, dt, bs, lb.offset(), new long[] {p, k, n}, sb);
        View c = TestData.place(b, dt, cs, lc.offset(), new long[] {p, m, n}, sc);
        try {
            b.matmul(a, bv, c);
            double[] got = TestData.readStorage(b, c);
            double[] want = cs.clone();
            double[] tol = new double[cs.length];
            for (long q = 0; q < p; q++) {
                for (long i = 0; i < m; i++) {
                    for (long j = 0; j < n; j++) {
                        double s = 0;
                        double mag = 0;
                        for (long r = 0; r < k; r++) {
                            double x = as[(int) (la.offset() + q * sa[0] + i * sa[1] + r * sa[2])]
                                    * bs[(int) (lb.offset() + q * sb[0] + r * sb[1] + j * sb[2])];
                            s += x;
                            mag += Math.abs(x);
                        }
                        int at = (int) (lc.offset() + q * sc[0] + i * sc[1] + j * sc[2]);
                        want[at] = s;
                        tol[at] = (dt == DType.FLOAT32 ? 2e-6 : 1e-14) * (mag + 1) * Math.max(1, Math.sqrt(k) / 4);
                    }
                }
            }
            for (int i = 0; i < want.length; i++) {
                if (!(Math.abs(got[i] - want[i]) <= tol[i])) {
                    fail(what + ": storage element " + i + " expected " + want[i] + ", got " + got[i]
                            + (tol[i] == 0 ? " (a gap outside the view was written)" : ""));
                }
            }
        } finally {
            TestData.release(a, bv, c);
        }
    }

    private static final Layout[] A_LAYOUTS = {Layout.N, Layout.T, Layout.STRIDED, Layout.BATCH0};
    private static final Layout[] B_LAYOUTS = {Layout.N, Layout.T, Layout.BATCH0, Layout.STRIDED};
    private static final Layout[] C_LAYOUTS = {Layout.N, Layout.T, Layout.STRIDED};

    /** Edge shapes {m, k, n}: vectors, K = 1, single tiles, and sizes across block boundaries. */
    private static final long[][] EDGES = {
        {1, 1, 1}, {1, 200, 1}, {1, 300, 70}, {130, 1, 127}, {127, 3, 1}, {8, 8, 32}, {8, 256, 32}, {9, 257, 33},
        {17, 513, 65}, {33, 1030, 40}, {20, 10, 600}, {150, 20, 20}, {145, 31, 513}, {7, 64, 16}, {16, 17, 31},
    };

    private List<long[]> shapes(SplittableRandom rnd) {
        List<long[]> l = new ArrayList<>(List.of(EDGES));
        for (int i = 0; i < 60; i++) {
            l.add(new long[] {1 + rnd.nextInt(130), 1 + rnd.nextInt(130), 1 + rnd.nextInt(130)});
        }
        return l;
    }

    @Test
    void float32AllLayoutsOneThread() {
        SplittableRandom rnd = new SplittableRandom(1);
        int i = 0;
        for (long[] s : shapes(rnd)) {
            long p = 1 + (i % 2);
            check(one, DType.FLOAT32, p, s[0], s[1], s[2], A_LAYOUTS[i % 4], B_LAYOUTS[(i / 4) % 4], C_LAYOUTS[i % 3], rnd);
            i++;
        }
    }

    @Test
    void float64AllLayoutsOneThread() {
        SplittableRandom rnd = new SplittableRandom(2);
        int i = 0;
        for (long[] s : shapes(rnd)) {
            long p = 1 + (i % 2);
            check(one, DType.FLOAT64, p, s[0], s[1], s[2], A_LAYOUTS[(i + 1) % 4], B_LAYOUTS[i % 4], C_LAYOUTS[i % 3],
                    rnd);
            i++;
        }
    }

    /** Products big enough to split: unequal N parts, unequal M parts, batch entries, batch stride 0. */
    @Test
    void threadedSplits() {
        SplittableRandom rnd = new SplittableRandom(3);
        long[][] big = {
            {1, 257, 129, 333}, // M < N: split over 11 NR panels (5 + 6)
            {1, 531, 200, 77},  // M > N: split over 67 MR panels (33 + 34)
            {3, 100, 70, 150},  // 3 entries on 2 threads: each entry split over N
            {4, 64, 90, 96},    // 4 entries: split over entries
            {1, 300, 600, 40},  // several k blocks, narrow N
        };
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            int i = 0;
            for (long[] s : big) {
                for (Layout[] ls : new Layout[][] {
                    {Layout.N, Layout.N, Layout.N}, {Layout.T, Layout.T, Layout.N}, {Layout.BATCH0, Layout.STRIDED,
                        Layout.T}, {Layout.STRIDED, Layout.BATCH0, Layout.STRIDED}}) {
                    check(two, dt, s[0], s[1], s[2], s[3], ls[0], ls[1], ls[2], rnd);
                    if (i++ % 3 == 0) {
                        check(one, dt, s[0], s[1], s[2], s[3], ls[0], ls[1], ls[2], rnd);
                    }
                }
            }
        }
    }

    @Test
    void int64IsExact() {
        long[] a = {3, -2, 7, 1L << 40, 5, 6};   // [2, 3]
        long[] b = {1, 2, 3, 4, -5, 6};          // [3, 2]
        View va = TestData.of(one, DType.INT64, toDoubles(a), 1, 2, 3);
        View vb = TestData.of(one, DType.INT64, toDoubles(b), 1, 3, 2);
        View vc = TestData.of(one, DType.INT64, new double[4], 1, 2, 2);
        try {
            one.matmul(va, vb, vc);
            long[] want = {3 * 1 - 2 * 3 + 7 * -5, 3 * 2 - 2 * 4 + 7 * 6, (1L << 40) + 15 - 30, (1L << 41) + 20 + 36};
            double[] got = TestData.read(one, vc);
            for (int i = 0; i < 4; i++) {
                assertEquals(want[i], (long) got[i], "int64 matmul element " + i);
            }
        } finally {
            TestData.release(va, vb, vc);
        }
    }

    private static double[] toDoubles(long[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    /** The vector micro-kernel does the same fma chain per element as its scalar form: equal bit for bit. */
    @Test
    void microKernelMatchesScalarForm() {
        SplittableRandom rnd = new SplittableRandom(4);
        for (int kc : new int[] {1, 2, 7, 37, 256}) {
            float[] ap = new float[Sgemm.MR * kc + 5];
            float[] bp = new float[Sgemm.NR * kc + 7];
            for (int i = 0; i < ap.length; i++) {
                ap[i] = (float) rnd.nextDouble(-1, 1);
            }
            for (int i = 0; i < bp.length; i++) {
                bp[i] = (float) rnd.nextDouble(-1, 1);
            }
            float[] vec = new float[Sgemm.MR * Sgemm.NR];
            float[] ref = new float[Sgemm.MR * Sgemm.NR];
            Sgemm.kernel(kc, ap, 5, bp, 7, vec);
            Sgemm.kernelScalar(kc, ap, 5, bp, 7, ref);
            assertArrayEquals(ref, vec, "float micro-kernel, kc " + kc);
            double[] apd = new double[Dgemm.MR * kc];
            double[] bpd = new double[Dgemm.NR * kc];
            for (int i = 0; i < apd.length; i++) {
                apd[i] = rnd.nextDouble(-1, 1);
            }
            for (int i = 0; i < bpd.length; i++) {
                bpd[i] = rnd.nextDouble(-1, 1);
            }
            double[] vd = new double[Dgemm.MR * Dgemm.NR];
            double[] rd = new double[Dgemm.MR * Dgemm.NR];
            Dgemm.kernel(kc, apd, 0, bpd, 0, vd);
            Dgemm.kernelScalar(kc, apd, 0, bpd, 0, rd);
            assertArrayEquals(rd, vd, "double micro-kernel, kc " + kc);
        }
    }

    /** Packed panels hold exactly the index formulas' elements (zero padded), for every layout. */
    @Test
    void packingMatchesIndexFormulas() {
        SplittableRandom rnd = new SplittableRandom(5);
        try (Arena arena = Arena.ofConfined()) {
            int rows = 70;
            int cols = 90;
            MemorySegment seg = arena.allocate(4L * (2 * rows * cols + 16), 64);
            for (long i = 0; i < seg.byteSize() / 4; i++) {
                seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(-1, 1));
            }
            Sgemm.Mat[] mats = {
                new Sgemm.Mat(seg, 3, cols, 1),      // row-major [rows, cols]
                new Sgemm.Mat(seg, 5, 1, rows),      // transposed
                new Sgemm.Mat(seg, 1, 2L * cols, 2), // strided
            };
            for (Sgemm.Mat mat : mats) {
                for (int[] mk : new int[][] {{rows, cols}, {17, 33}, {8, 8}, {3, 1}, {64, 41}}) {
                    int mc = mk[0];
                    int kc = mk[1];
                    float[] ap = new float[((mc + Sgemm.MR - 1) / Sgemm.MR) * Sgemm.MR * kc];
                    Sgemm.packA(mat, mc, kc, ap);
                    for (int i = 0; i < (mc + Sgemm.MR - 1) / Sgemm.MR * Sgemm.MR; i++) {
                        for (int k = 0; k < kc; k++) {
                            float want = i < mc ? seg.getAtIndex(ValueLayout.JAVA_FLOAT, mat.off() + i * mat.rs()
                                    + k * mat.cs()) : 0f;
                            int at = (i / Sgemm.MR) * Sgemm.MR * kc + k * Sgemm.MR + i % Sgemm.MR;
                            if (ap[at] != want) {
                                fail("packA " + mat + " mc " + mc + " kc " + kc + " at (" + i + ", " + k + ")");
                            }
                        }
                    }
                    // the same matrix as B [kc, nc]
                    int nc = mc;
                    int kb = Math.min(kc, rows);
                    float[] bp = new float[((nc + Sgemm.NR - 1) / Sgemm.NR) * Sgemm.NR * kb];
                    Sgemm.Mat bt = new Sgemm.Mat(seg, mat.off(), mat.cs(), mat.rs()); // [cols, rows] view
                    Sgemm.packB(bt, kb, Math.min(nc, cols), bp);
                    int ncc = Math.min(nc, cols);
                    for (int j = 0; j < (ncc + Sgemm.NR - 1) / Sgemm.NR * Sgemm.NR; j++) {
                        for (int k = 0; k < kb; k++) {
                            float want = j < ncc ? seg.getAtIndex(ValueLayout.JAVA_FLOAT, bt.off() + k * bt.rs()
                                    + j * bt.cs()) : 0f;
                            int at = (j / Sgemm.NR) * Sgemm.NR * kb + k * Sgemm.NR + j % Sgemm.NR;
                            if (bp[at] != want) {
                                fail("packB " + bt + " kc " + kb + " nc " + ncc + " at (" + k + ", " + j + ")");
                            }
                        }
                    }
                }
            }
        }
    }
}
