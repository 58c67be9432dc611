package dev.sinew.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sinew.DType;
import dev.sinew.spi.BackendOptions;
import dev.sinew.spi.BinaryOp;
import dev.sinew.spi.Distribution;
import dev.sinew.spi.Philox;
import dev.sinew.spi.ReduceOp;
import dev.sinew.spi.UnaryOp;
import dev.sinew.spi.View;
import dev.sinew.testing.Layout;
import dev.sinew.testing.RandomData;
import dev.sinew.testing.Tolerance;
import dev.sinew.testing.Views;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Pins the reference backend's primitive ops to straightforward loops written here, independently
 * of its implementation: elementwise definitions (special values included), INT64 exactness, casts,
 * reductions over one and several axes, ARGMAX ties and NaN, where, matmul against a triple loop
 * with transposed and batch-broadcast operands, and random fills against {@link Philox}.
 */
class ReferencePrimitivesTest {
    private static final double[] SPECIAL = {
        0.0, -0.0, 1.0, -1.0, 0.5, -2.75, 3.0, 1e-300, -1e-300, 700, -700, 40, -40,
        Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY
    };

    private ReferenceBackend b;
    private final List<View> owned = new ArrayList<>();
    private final SplittableRandom rnd = new SplittableRandom(20240601);

    @BeforeEach
    void open() {
        b = new ReferenceBackend(new BackendOptions(1, true));
    }

    @AfterEach
    void close() {
        for (View v : owned) {
            v.storage().release();
        }
        owned.clear();
        assertEquals(0, b.liveBuffers(), "live buffers after the test");
        b.close();
    }

    private View of(DType dt, double[] data, long... shape) {
        View v = Views.fromDoubles(b, dt, data, shape);
        owned.add(v);
        return v;
    }

    private View longs(long[] data, long... shape) {
        View v = Views.fromLongs(b, data, shape);
        owned.add(v);
        return v;
    }

    private View empty(DType dt, long... shape) {
        return of(dt, new double[Math.toIntExact(Views.numel(shape))], shape);
    }

    /** A view of {@code shape} in {@code layout} whose row-major values are {@code logical}. */
    private View laidOut(DType dt, Layout layout, double[] logical, long... shape) {
        Layout.Geometry g = layout.geometry(shape);
        double[] storage = new double[Math.toIntExact(g.elements())];
        Arrays.fill(storage, 12345); // gaps
        for (int i = 0; i < logical.length; i++) {
            storage[Math.toIntExact(g.indexOf(shape, i))] = logical[i];
        }
        View v = Views.withGeometry(b, dt, g, storage, shape);
        owned.add(v);
        return v;
    }

    // ---- elementwise -------------------------------------------------------------------------

    private static DoubleUnaryOperator definition(UnaryOp op) {
        return switch (op) {
            case NEG -> x -> -x;
            case ABS -> Math::abs;
            case SIGN -> x -> Double.isNaN(x) ? x : x > 0 ? 1 : x < 0 ? -1 : x;
            case EXP -> Math::exp;
            case LOG -> Math::log;
            case SQRT -> Math::sqrt;
            case RSQRT -> x -> 1 / Math.sqrt(x);
            case RECIPROCAL -> x -> 1 / x;
            case SQUARE -> x -> x * x;
            case TANH -> Math::tanh;
            case SIGMOID -> x -> 1 / (1 + Math.exp(-x));
            case RELU -> x -> Double.isNaN(x) ? x : x > 0 ? x : 0;
            case SIN -> Math::sin;
            case COS -> Math::cos;
        };
    }

    @Test
    void unaryOpsFollowTheirDefinitions() {
        for (UnaryOp op : UnaryOp.values()) {
            View x = of(DType.FLOAT64, SPECIAL, SPECIAL.length);
            View y = empty(DType.FLOAT64, SPECIAL.length);
            b.unary(op, x, y);
            double[] expected = Arrays.stream(SPECIAL).map(definition(op)).toArray();
            Tolerance.assertClose("unary " + op, expected, Views.toDoubles(y), 0, 1e-15);
        }
    }

    @Test
    void unaryOnFloat32RoundsTheDoubleResultOnce() {
        double[] x = RandomData.doubles(rnd, RandomData.Domain.ANY, 100);
        View in = of(DType.FLOAT32, x, 100);
        View out = empty(DType.FLOAT32, 100);
        b.unary(UnaryOp.EXP, in, out);
        double[] stored = Views.toDoubles(in);
        double[] expected = Arrays.stream(stored).map(v -> (float) Math.exp(v)).toArray();
        Tolerance.EXACT.assertClose("exp float32", expected, Views.toDoubles(out));
    }

    @Test
    void sigmoidIsStableForLargeInputs() {
        View x = of(DType.FLOAT64, new double[] {-800, 800, -30, 30}, 4);
        View y = empty(DType.FLOAT64, 4);
        b.unary(UnaryOp.SIGMOID, x, y);
        Tolerance.assertClose("sigmoid", new double[] {0, 1, Math.exp(-30) / (1 + Math.exp(-30)), 1 / (1 + Math.exp(-30))},
                Views.toDoubles(y), 0, 1e-15);
    }

    @Test
    void int64UnaryOpsAreExact() {
        long big = (1L << 53) + 1; // not representable in double
        long[] x = {big, -big, 0, 7, -3};
        View in = longs(x, 5);
        View out = longs(new long[5], 5);
        b.unary(UnaryOp.NEG, in, out);
        Tolerance.assertExact("neg", new long[] {-big, big, 0, -7, 3}, Views.toLongs(out));
        b.unary(UnaryOp.ABS, in, out);
        Tolerance.assertExact("abs", new long[] {big, big, 0, 7, 3}, Views.toLongs(out));
        b.unary(UnaryOp.SIGN, in, out);
        Tolerance.assertExact("sign", new long[] {1, -1, 0, 1, -1}, Views.toLongs(out));
        b.unary(UnaryOp.RELU, in, out);
        Tolerance.assertExact("relu", new long[] {big, 0, 0, 7, 0}, Views.toLongs(out));
        b.unary(UnaryOp.SQUARE, longs(new long[] {3_000_000_001L, -4, 0, 1, 9}, 5), out);
        Tolerance.assertExact("square", new long[] {9_000_000_006_000_000_001L, 16, 0, 1, 81}, Views.toLongs(out));
    }

    @Test
    void binaryOpsFollowTheirDefinitions() {
        int n = SPECIAL.length;
        double[] a = new double[n * n];
        double[] c = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                a[i * n + j] = SPECIAL[i];
                c[i * n + j] = SPECIAL[j];
            }
        }
        View va = of(DType.FLOAT64, a, n, n);
        View vb = of(DType.FLOAT64, c, n, n);
        View out = empty(DType.FLOAT64, n, n);
        for (BinaryOp op : BinaryOp.values()) {
            b.binary(op, va, vb, out);
            double[] expected = new double[n * n];
            for (int k = 0; k < n * n; k++) {
                double x = a[k];
                double y = c[k];
                expected[k] = switch (op) {
                    case ADD -> x + y;
                    case SUB -> x - y;
                    case MUL -> x * y;
                    case DIV -> x / y;
                    case MAX -> Double.isNaN(x) || Double.isNaN(y) ? Double.NaN : x > y ? x : y;
                    case MIN -> Double.isNaN(x) || Double.isNaN(y) ? Double.NaN : x < y ? x : y;
                    case POW -> Math.pow(x, y);
                    case EQ -> x == y ? 1 : 0;
                    case NE -> x != y ? 1 : 0;
                    case LT -> x < y ? 1 : 0;
                    case LE -> x <= y ? 1 : 0;
                    case GT -> x > y ? 1 : 0;
                    case GE -> x >= y ? 1 : 0;
                };
            }
            Tolerance.EXACT.assertClose("binary " + op, expected, Views.toDoubles(out));
        }
    }

    @Test
    void binaryBroadcastsThroughZeroStrides() {
        // a [2, 3] + b [3] broadcast over rows (stride 0), written into a transposed output
        View a = of(DType.FLOAT64, new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        View row = of(DType.FLOAT64, new double[] {10, 20, 30}, 3);
        View bRow = row.with(0, new long[] {2, 3}, new long[] {0, 1});
        View outT = empty(DType.FLOAT64, 3, 2);
        View out = outT.with(0, new long[] {2, 3}, new long[] {1, 2});
        b.binary(BinaryOp.ADD, a, bRow, out);
        Tolerance.EXACT.assertClose("broadcast add", new double[] {11, 22, 33, 14, 25, 36}, Views.toDoubles(out));
        Tolerance.EXACT.assertClose("transposed storage", new double[] {11, 14, 22, 25, 33, 36}, Views.toDoubles(outT));
    }

    @Test
    void int64BinaryOpsAreExactAndDivTruncates() {
        long big = 1L << 53;
        View a = longs(new long[] {big + 1, 7, -7, 5}, 4);
        View c = longs(new long[] {1, 2, 2, 0}, 4);
        View out = longs(new long[4], 4);
        b.binary(BinaryOp.ADD, a, c, out);
        Tolerance.assertExact("add", new long[] {big + 2, 9, -5, 5}, Views.toLongs(out));
        b.binary(BinaryOp.MUL, a, c, out);
        Tolerance.assertExact("mul", new long[] {big + 1, 14, -14, 0}, Views.toLongs(out));
        b.binary(BinaryOp.GT, a, longs(new long[] {big, 7, -8, 5}, 4), out);
        Tolerance.assertExact("gt", new long[] {1, 0, 1, 0}, Views.toLongs(out));
        b.binary(BinaryOp.DIV, a, c, out);
        assertEquals(3, Views.toLongs(out)[1], "7 / 2 truncates");
        assertEquals(-3, Views.toLongs(out)[2], "-7 / 2 truncates toward zero");
        assertEquals(Long.MAX_VALUE, Views.toLongs(out)[3], "5 / 0 saturates");
    }

    @Test
    void copyConvertsLikeJavaCasts() {
        double[] x = {2.7, -2.7, 0.5, Double.NaN, 1e30, -1e30, 16777217, 3};
        View src = of(DType.FLOAT64, x, x.length);
        View asLong = longs(new long[x.length], x.length);
        b.copy(src, asLong);
        Tolerance.assertExact("float64 -> int64",
                new long[] {2, -2, 0, 0, Long.MAX_VALUE, Long.MIN_VALUE, 16777217, 3}, Views.toLongs(asLong));
        View asFloat = empty(DType.FLOAT32, x.length);
        b.copy(src, asFloat);
        double[] rounded = Arrays.stream(x).map(v -> (float) v).toArray();
        Tolerance.EXACT.assertClose("float64 -> float32", rounded, Views.toDoubles(asFloat));
        long odd = (1L << 60) + 1;
        View l = longs(new long[] {odd, -odd}, 2);
        View lf = empty(DType.FLOAT32, 2);
        b.copy(l, lf);
        Tolerance.EXACT.assertClose("int64 -> float32", new double[] {(float) odd, (float) -odd}, Views.toDoubles(lf));
        View ll = longs(new long[2], 2);
        b.copy(l, ll);
        Tolerance.assertExact("int64 -> int64 is exact", new long[] {odd, -odd}, Views.toLongs(ll));
    }

    @Test
    void fillAndHostCopiesRespectStrides() {
        double[] logical = {1, 2, 3, 4, 5, 6};
        View v = laidOut(DType.FLOAT32, Layout.PERMUTED, logical, 2, 3);
        Tolerance.EXACT.assertClose("copyToHost reads row-major", logical, Views.toDoubles(v));
        b.fill(v, -1.5);
        double[] whole = Views.toDoubles(Views.wholeStorage(v));
        for (int i = 0; i < whole.length; i++) {
            assertEquals(i < 6 ? -1.5 : 12345, whole[i], "storage element " + i);
        }
    }

    // ---- where -------------------------------------------------------------------------------

    @Test
    void whereTreatsEveryNonzeroIncludingNaNAsTrue() {
        View cond = of(DType.FLOAT32, new double[] {0, -0.0, 1, Double.NaN, -3, 0.25}, 6);
        View a = of(DType.FLOAT64, new double[] {1, 2, 3, 4, 5, 6}, 6);
        View c = of(DType.FLOAT64, new double[] {-1, -2, -3, -4, -5, -6}, 6);
        View out = empty(DType.FLOAT64, 6);
        b.where(cond, a, c, out);
        Tolerance.EXACT.assertClose("where", new double[] {-1, -2, 3, 4, 5, 6}, Views.toDoubles(out));
        View lc = longs(new long[] {0, 5, 0, -1, 0, 1}, 6);
        View la = longs(new long[] {(1L << 53) + 1, 2, 3, 4, 5, 6}, 6);
        View lb = longs(new long[] {(1L << 53) + 3, -2, -3, -4, -5, -6}, 6);
        View lo = longs(new long[6], 6);
        b.where(lc, la, lb, lo);
        Tolerance.assertExact("where int64", new long[] {(1L << 53) + 3, 2, -3, 4, -5, 6}, Views.toLongs(lo));
    }

    // ---- reductions --------------------------------------------------------------------------

    @Test
    void reductionsMatchLoopsOverAnyAxes() {
        long[] shape = {3, 4, 5};
        double[] x = RandomData.doubles(rnd, RandomData.Domain.ANY, 60);
        int[][] axesSets = {{0}, {1}, {2}, {0, 2}, {1, 2}, {0, 1, 2}};
        for (Layout layout : new Layout[] {Layout.CONTIGUOUS, Layout.PERMUTED, Layout.SLICED}) {
            View in = laidOut(DType.FLOAT64, layout, x, shape);
            for (int[] axes : axesSets) {
                long[] os = shape.clone();
                for (int a : axes) {
                    os[a] = 1;
                }
                for (ReduceOp op : new ReduceOp[] {ReduceOp.SUM, ReduceOp.MAX, ReduceOp.MIN}) {
                    double[] expected = new double[(int) (os[0] * os[1] * os[2])];
                    Arrays.fill(expected, op == ReduceOp.SUM ? 0 : op == ReduceOp.MAX ? Double.NEGATIVE_INFINITY
                            : Double.POSITIVE_INFINITY);
                    for (int i = 0; i < 3; i++) {
                        for (int j = 0; j < 4; j++) {
                            for (int k = 0; k < 5; k++) {
                                int o = (int) (((os[0] == 1 ? 0 : i) * os[1] + (os[1] == 1 ? 0 : j)) * os[2]
                                        + (os[2] == 1 ? 0 : k));
                                double v = x[(i * 4 + j) * 5 + k];
                                expected[o] = switch (op) {
                                    case SUM -> expected[o] + v;
                                    case MAX -> Math.max(expected[o], v);
                                    default -> Math.min(expected[o], v);
                                };
                            }
                        }
                    }
                    View out = empty(DType.FLOAT64, os);
                    b.reduce(op, in, out);
                    Tolerance.assertClose("reduce " + op + " " + layout + " axes " + Arrays.toString(axes), expected,
                            Views.toDoubles(out), 1e-14, 1e-14);
                }
            }
        }
    }

    @Test
    void maxAndMinPropagateNaN() {
        View x = of(DType.FLOAT64, new double[] {1, Double.NaN, 3, 4, 5, 6}, 2, 3);
        View out = empty(DType.FLOAT64, 2, 1);
        b.reduce(ReduceOp.MAX, x, out);
        Tolerance.EXACT.assertClose("max", new double[] {Double.NaN, 6}, Views.toDoubles(out));
        b.reduce(ReduceOp.MIN, x, out);
        Tolerance.EXACT.assertClose("min", new double[] {Double.NaN, 4}, Views.toDoubles(out));
    }

    @Test
    void argmaxTakesTheFirstMaximumAndTheFirstNaN() {
        double[] x = {
            1, 3, 3, 2,
            -1, -1, -1, -1,
            0, Double.NaN, 9, Double.NaN,
            Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY, -5, -5,
        };
        View in = of(DType.FLOAT32, x, 4, 4);
        View out = longs(new long[4], 4, 1);
        b.reduce(ReduceOp.ARGMAX, in, out);
        Tolerance.assertExact("argmax rows", new long[] {1, 0, 1, 2}, Views.toLongs(out));
        View cols = longs(new long[4], 1, 4);
        b.reduce(ReduceOp.ARGMAX, in, cols);
        Tolerance.assertExact("argmax columns", new long[] {0, 2, 2, 2}, Views.toLongs(cols));
        View li = longs(new long[] {(1L << 53) + 1, 1L << 53, 4, 4}, 2, 2);
        View lo = longs(new long[2], 2, 1);
        b.reduce(ReduceOp.ARGMAX, li, lo);
        Tolerance.assertExact("argmax int64 (beyond double precision)", new long[] {0, 0}, Views.toLongs(lo));
    }

    @Test
    void int64SumIsExact() {
        long big = 1L << 53;
        View x = longs(new long[] {big, 1, 1, -3}, 4);
        View out = longs(new long[1], 1);
        b.reduce(ReduceOp.SUM, x, out);
        assertEquals(big - 1, Views.toLongs(out)[0]);
    }

    @Test
    void reduceRejectsBadOutputShapes() {
        View x = empty(DType.FLOAT64, 3, 4);
        assertThrows(IllegalArgumentException.class, () -> b.reduce(ReduceOp.SUM, x, empty(DType.FLOAT64, 3)));
        assertThrows(IllegalArgumentException.class, () -> b.reduce(ReduceOp.SUM, x, empty(DType.FLOAT64, 2, 1)));
        assertThrows(IllegalArgumentException.class, () -> b.reduce(ReduceOp.ARGMAX, x, longs(new long[1], 1, 1)));
        assertThrows(IllegalArgumentException.class, () -> b.unary(UnaryOp.NEG, x, empty(DType.FLOAT64, 4, 3)));
    }

    // ---- matmul ------------------------------------------------------------------------------

    @Test
    void matmulMatchesATripleLoop() {
        long[][] sizes = {{1, 1, 1, 1}, {2, 3, 5, 4}, {3, 17, 33, 7}, {1, 64, 65, 3}};
        for (long[] s : sizes) {
            int p = (int) s[0];
            int m = (int) s[1];
            int k = (int) s[2];
            int n = (int) s[3];
            double[] a = RandomData.doubles(rnd, RandomData.Domain.ANY, p * m * k); // [P, M, K]
            double[] c = RandomData.doubles(rnd, RandomData.Domain.ANY, p * k * n); // [P, K, N]
            for (int variant = 0; variant < 4; variant++) {
                boolean aT = (variant & 1) != 0;
                boolean bT = (variant & 2) != 0;
                View va = laidOut(DType.FLOAT64, aT ? Layout.TRANSPOSED : Layout.CONTIGUOUS, a, p, m, k);
                View vb = laidOut(DType.FLOAT64, bT ? Layout.TRANSPOSED : Layout.SLICED, c, p, k, n);
                View out = laidOut(DType.FLOAT64, Layout.PERMUTED, new double[p * m * n], p, m, n);
                b.matmul(va, vb, out);
                double[] expected = new double[p * m * n];
                for (int pi = 0; pi < p; pi++) {
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double sum = 0;
                            for (int q = 0; q < k; q++) {
                                sum += a[(pi * m + i) * k + q] * c[(pi * k + q) * n + j];
                            }
                            expected[(pi * m + i) * n + j] = sum;
                        }
                    }
                }
                Tolerance.assertClose("matmul " + Arrays.toString(s) + " aT=" + aT + " bT=" + bT, expected,
                        Views.toDoubles(out), 1e-13, 1e-13);
            }
        }
    }

    @Test
    void matmulBatchStrideZeroReusesOneMatrix() {
        // a [2, 2, 3] is one matrix seen twice (batch stride 0); b differs per batch entry
        View a1 = of(DType.FLOAT64, new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        View a = a1.with(0, new long[] {2, 2, 3}, new long[] {0, 3, 1});
        View bb = of(DType.FLOAT64, new double[] {1, 0, 0, 1, 1, 1, 2, 0, 0, 2, 0, 0}, 2, 3, 2);
        View out = empty(DType.FLOAT64, 2, 2, 2);
        b.matmul(a, bb, out);
        Tolerance.EXACT.assertClose("batch-broadcast matmul", new double[] {4, 5, 10, 11, 2, 4, 8, 10},
                Views.toDoubles(out));
    }

    // ---- random ------------------------------------------------------------------------------

    @Test
    void randomFollowsPhiloxByRowMajorIndex() {
        long seed = 0x1234_5678_9ABC_DEF0L;
        long offset = (1L << 32) - 3; // crosses into the counter's high word
        for (Distribution dist : Distribution.values()) {
            double pa = dist == Distribution.BERNOULLI ? 0.3 : -1;
            double pb = 2;
            for (DType dt : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
                View y = laidOut(dt, Layout.TRANSPOSED, new double[12], 3, 4);
                b.random(y, dist, pa, pb, seed, offset);
                double[] expected = new double[12];
                for (int i = 0; i < 12; i++) {
                    double v = Philox.sample(dist, pa, pb, seed, offset + i);
                    expected[i] = dt == DType.FLOAT32 ? (float) v : v;
                }
                Tolerance.EXACT.assertClose("random " + dist + " " + dt, expected, Views.toDoubles(y));
            }
        }
    }
}
