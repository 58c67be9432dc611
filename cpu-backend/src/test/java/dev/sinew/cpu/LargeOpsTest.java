package dev.sinew.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sinew.DType;
import dev.sinew.reference.ReferenceBackend;
import dev.sinew.spi.Backend;
import dev.sinew.spi.BackendOptions;
import dev.sinew.spi.BinaryOp;
import dev.sinew.spi.Distribution;
import dev.sinew.spi.FusedOps;
import dev.sinew.spi.Philox;
import dev.sinew.spi.ReduceOp;
import dev.sinew.spi.UnaryOp;
import dev.sinew.spi.View;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Ops large enough to take the multithreaded paths (the conformance suite's sizes mostly do not),
 * on a two-thread CPU backend against the reference backend: broadcast patterns, transcendental
 * unaries, transposing copies, every reduction kernel (last axis, first axis with many rows, whole
 * tensor, ARGMAX with NaN), Philox fills at counters across 2^32, dropout, softmax, cross-entropy and
 * the optimisers (which must agree bit for bit).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LargeOpsTest {
    private CpuBackend cpu;
    private ReferenceBackend ref;
    private final List<View> owned = new ArrayList<>();

    @BeforeAll
    void open() {
        cpu = new CpuBackend(new BackendOptions(2, true));
        ref = new ReferenceBackend(new BackendOptions(1, true));
    }

    @AfterAll
    void close() {
        cpu.close();
        ref.close();
    }

    @AfterEach
    void releaseAndCheck() {
        for (View v : owned) {
            v.storage().release();
        }
        owned.clear();
        assertEquals(0, cpu.liveBuffers(), "cpu live buffers after the test");
        assertEquals(0, cpu.leakedBuffers(), "cpu leaked buffers");
    }

    /** The same data on both backends: [0] reference, [1] cpu. */
    private View[] pair(DType dt, double[] storage, long offset, long[] shape, long[] strides) {
        View r = TestData.place(ref, dt, storage, offset, shape, strides);
        View c = TestData.place(cpu, dt, storage, offset, shape, strides);
        owned.add(r);
        owned.add(c);
        return new View[] {r, c};
    }

    private View[] pair(DType dt, double[] data, long... shape) {
        return pair(dt, data, 0, shape, View.contiguousStrides(shape));
    }

    private View[] zeros(DType dt, long... shape) {
        return pair(dt, new double[Math.toIntExact(TestData.numel(shape))], shape);
    }

    private void same(String what, View[] out, double atol, double rtol) {
        TestData.assertClose(what, TestData.readStorage(ref, out[0]), TestData.readStorage(cpu, out[1]), atol, rtol);
    }

    private static double[] random(SplittableRandom rnd, int n, double lo, double hi) {
        return TestData.uniform(rnd, n, lo, hi);
    }

    @Test
    void binaryBroadcastPatterns() {
        SplittableRandom rnd = new SplittableRandom(11);
        long m = 300;
        long n = 257;
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            View[] a = pair(dt, random(rnd, (int) (m * n), -2, 2), m, n);
            View[] row = pair(dt, random(rnd, (int) n, 0.5, 2), 0, new long[] {m, n}, new long[] {0, 1});   // [1, N]
            View[] col = pair(dt, random(rnd, (int) m, 0.5, 2), 0, new long[] {m, n}, new long[] {1, 0});   // [M, 1]
            View[] sc = pair(dt, new double[] {1.25}, 0, new long[] {m, n}, new long[] {0, 0});             // scalar
            for (BinaryOp op : new BinaryOp[] {BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL, BinaryOp.DIV, BinaryOp.MAX,
                BinaryOp.POW, BinaryOp.GT, BinaryOp.EQ}) {
                View[][] rhs = {row, col, sc, a};
                for (View[] b : rhs) {
                    View[] out = zeros(dt, m, n);
                    View[] lhs = op == BinaryOp.POW ? row : a; // positive bases for POW
                    ref.binary(op, lhs[0], b[0], out[0]);
                    cpu.binary(op, lhs[1], b[1], out[1]);
                    same("binary " + op + " " + dt + " rhs strides " + java.util.Arrays.toString(b[1].strides()), out,
                            1e-6, dt == DType.FLOAT32 ? 2e-6 : 1e-14);
                    // and with the broadcast operand on the left
                    ref.binary(op, b[0], lhs[0], out[0]);
                    cpu.binary(op, b[1], lhs[1], out[1]);
                    same("binary " + op + " " + dt + " (swapped)", out, 1e-6, dt == DType.FLOAT32 ? 2e-6 : 1e-14);
                }
            }
        }
    }

    @Test
    void transcendentalUnaries() {
        SplittableRandom rnd = new SplittableRandom(12);
        int n = 100_003;
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            View[] x = pair(dt, random(rnd, n, 0.01, 6), n);
            View[] xs = pair(dt, random(rnd, n, -8, 8), n);
            for (UnaryOp op : UnaryOp.values()) {
                View[] in = switch (op) {
                    case LOG, SQRT, RSQRT -> x;
                    default -> xs;
                };
                View[] out = zeros(dt, n);
                ref.unary(op, in[0], out[0]);
                cpu.unary(op, in[1], out[1]);
                same("unary " + op + " " + dt, out, dt == DType.FLOAT32 ? 1e-6 : 1e-14, dt == DType.FLOAT32 ? 4e-6
                        : 1e-14);
            }
        }
    }

    @Test
    void copiesAndCasts() {
        SplittableRandom rnd = new SplittableRandom(13);
        long r = 513;
        long c = 700;
        double[] data = random(rnd, (int) (r * c), -1000, 1000);
        for (DType from : DType.values()) {
            // a transposed source ([c, r] seen as [r, c]) into a contiguous destination: the tiled path
            View[] src = pair(from, data, 0, new long[] {r, c}, new long[] {1, r});
            for (DType to : DType.values()) {
                View[] dst = zeros(to, r, c);
                ref.copy(src[0], dst[0]);
                cpu.copy(src[1], dst[1]);
                same("copy transposed " + from + " -> " + to, dst, 0, 0);
            }
        }
        View[] strided = zeros(DType.FLOAT32, 2 * r * c);
        View[] target = {strided[0].with(1, new long[] {r, c}, new long[] {2 * c, 2}),
            strided[1].with(1, new long[] {r, c}, new long[] {2 * c, 2})};
        ref.fill(target[0], 3.5);
        cpu.fill(target[1], 3.5);
        same("strided fill", strided, 0, 0);
        View[] cond = pair(DType.FLOAT32, random(rnd, (int) (r * c), -1, 1), r, c);
        View[] cond0 = pair(DType.FLOAT32, new double[] {0, 1, Double.NaN}, 0, new long[] {r, c}, new long[] {0, 0});
        View[] a = pair(DType.FLOAT32, random(rnd, (int) (r * c), -1, 1), r, c);
        View[] b = pair(DType.FLOAT32, random(rnd, (int) c, -1, 1), 0, new long[] {r, c}, new long[] {0, 1});
        View[] out = zeros(DType.FLOAT32, r, c);
        View[] gt = zeros(DType.FLOAT32, r, c);
        ref.binary(BinaryOp.GT, cond[0], b[0], gt[0]);
        cpu.binary(BinaryOp.GT, cond[1], b[1], gt[1]);
        for (View[] cv : new View[][] {gt, cond0}) {
            ref.where(cv[0], a[0], b[0], out[0]);
            cpu.where(cv[1], a[1], b[1], out[1]);
            same("where", out, 0, 0);
        }
    }

    private void reduce(ReduceOp op, DType dt, double[] data, long[] shape, long[] outShape) {
        View[] x = pair(dt, data, shape);
        View[] y = zeros(op == ReduceOp.ARGMAX ? DType.INT64 : dt, outShape);
        ref.reduce(op, x[0], y[0]);
        cpu.reduce(op, x[1], y[1]);
        long terms = TestData.numel(shape) / TestData.numel(outShape);
        double tol = op != ReduceOp.SUM ? 0 : (dt == DType.FLOAT32 ? 2e-6 : 1e-13) * Math.sqrt(terms) * 4;
        same("reduce " + op + " " + dt + " " + java.util.Arrays.toString(shape) + " -> "
                + java.util.Arrays.toString(outShape), y, tol, op == ReduceOp.SUM ? 1e-6 : 0);
    }

    @Test
    void reductionKernels() {
        SplittableRandom rnd = new SplittableRandom(14);
        long[][][] cases = {
            {{300, 1001}, {300, 1}},          // last axis: vector runs
            {{1500, 300}, {1, 300}},          // first axis: column kernel, folds every 512 rows
            {{7, 1200, 33}, {7, 1, 33}},      // middle axis: column kernel with an outer kept axis
            {{1_000_003}, {1}},               // everything: split over threads, partials merged in order
            {{40, 50, 60}, {1, 50, 1}},       // two reduced axes around a kept one
            {{600, 700}, {600, 1}},           // last axis with many rows: split over rows
        };
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64, DType.INT64}) {
            for (long[][] c : cases) {
                int n = Math.toIntExact(TestData.numel(c[0]));
                double[] data = new double[n];
                for (int i = 0; i < n; i++) {
                    data[i] = dt == DType.INT64 ? rnd.nextInt(-50, 50) : rnd.nextInt(-64, 64) * 0.25 + rnd.nextDouble(-1e-3,
                            1e-3);
                }
                for (ReduceOp op : ReduceOp.values()) {
                    int reduced = 0;
                    for (int d = 0; d < c[0].length; d++) {
                        reduced += c[1][d] == 1 && c[0][d] > 1 ? 1 : 0;
                    }
                    if (op == ReduceOp.ARGMAX && reduced != 1) {
                        continue;
                    }
                    reduce(op, dt, data, c[0], c[1]);
                }
            }
        }
        // NaN: MAX/MIN propagate it, ARGMAX finds the first one; ties go to the first maximum
        double[] d = new double[200_000];
        d[123_456] = 7;
        d[150_000] = 7;
        reduce(ReduceOp.ARGMAX, DType.FLOAT32, d, new long[] {200_000}, new long[] {1});
        d[170_001] = Double.NaN;
        d[190_000] = Double.NaN;
        for (ReduceOp op : ReduceOp.values()) {
            reduce(op, DType.FLOAT32, d, new long[] {200_000}, new long[] {1});
            reduce(op, DType.FLOAT64, d, new long[] {400, 500}, new long[] {400, 1});
            if (op != ReduceOp.ARGMAX) {
                reduce(op, DType.FLOAT32, d, new long[] {400, 500}, new long[] {1, 500});
            }
        }
    }

    @Test
    void philoxFillsAreExact() {
        long n = 100_003;
        for (long offset : new long[] {0, (1L << 32) - 50_000, 123_456_789_012L}) {
            for (Distribution dist : Distribution.values()) {
                for (DType dt : DType.values()) {
                    if (dt == DType.INT64 && dist != Distribution.BERNOULLI) {
                        continue;
                    }
                    View[] y = zeros(dt, n);
                    ref.random(y[0], dist, 0.3, 2.5, 0xC0FFEEL, offset);
                    cpu.random(y[1], dist, 0.3, 2.5, 0xC0FFEEL, offset);
                    same("random " + dist + " " + dt + " offset " + offset, y, 0, 0);
                }
            }
        }
        double[] u = new double[Randoms.BATCH];
        for (long c : new long[] {0, (1L << 32) - Randoms.BATCH / 2, Long.MAX_VALUE - Randoms.BATCH}) {
            Randoms.uniforms(-7, c, u, u.length);
            for (int l = 0; l < u.length; l++) {
                assertEquals(Philox.uniform(-7, c + l), u[l], "vector Philox at counter " + (c + l));
            }
        }
    }

    @Test
    void dropoutMatchesDefinition() {
        SplittableRandom rnd = new SplittableRandom(15);
        long n = 70_001;
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            View[] x = pair(dt, random(rnd, (int) n, -2, 2), n);
            for (double p : new double[] {0.1, 0.5}) {
                View[] out = zeros(dt, n);
                View[] mask = zeros(dt, n);
                ref.dropout(x[0], out[0], mask[0], p, 99, (1L << 32) - 7);
                cpu.dropout(x[1], out[1], mask[1], p, 99, (1L << 32) - 7);
                same("dropout mask " + dt + " p " + p, mask, 0, 0);
                same("dropout out " + dt + " p " + p, out, 0, 0);
            }
        }
    }

    @Test
    void softmaxAndCrossEntropy() {
        SplittableRandom rnd = new SplittableRandom(16);
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            double tol = dt == DType.FLOAT32 ? 1e-6 : 1e-14;
            long rows = 64;
            long cols = 5000;
            View[] x = pair(dt, random(rnd, (int) (rows * cols), -8, 8), rows, cols);
            View[] dy = pair(dt, random(rnd, (int) (rows * cols), -1, 1), rows, cols);
            for (boolean log : new boolean[] {false, true}) {
                View[] y = zeros(dt, rows, cols);
                ref.softmax(x[0], y[0], log);
                cpu.softmax(x[1], y[1], log);
                same("softmax log=" + log + " " + dt, y, tol, 1e-5);
                View[] dx = zeros(dt, rows, cols);
                ref.softmaxBackward(y[0], dy[0], dx[0], log);
                cpu.softmaxBackward(y[1], dy[1], dx[1], log);
                same("softmaxBackward log=" + log + " " + dt, dx, tol * 10, 1e-5);
            }
            long n = 512;
            long c = 1000;
            View[] logits = pair(dt, random(rnd, (int) (n * c), -8, 8), n, c);
            double[] lab = new double[(int) n];
            for (int i = 0; i < n; i++) {
                lab[i] = i % 7 == 0 ? -100 : rnd.nextInt((int) c);
            }
            View[] labels = pair(DType.INT64, lab, n);
            View[] dLoss = pair(dt, random(rnd, (int) n, 0, 1), n);
            for (double eps : new double[] {0, 0.1}) {
                View[] loss = zeros(dt, n);
                View[] probs = zeros(dt, n, c);
                ref.softmaxCrossEntropy(logits[0], labels[0], loss[0], probs[0], -100, eps);
                cpu.softmaxCrossEntropy(logits[1], labels[1], loss[1], probs[1], -100, eps);
                same("crossEntropy loss " + dt + " eps " + eps, loss, tol * 100, 1e-5);
                same("crossEntropy probs " + dt + " eps " + eps, probs, tol, 1e-5);
                View[] dl = zeros(dt, n, c);
                ref.softmaxCrossEntropyBackward(probs[0], labels[0], dLoss[0], dl[0], -100, eps);
                cpu.softmaxCrossEntropyBackward(probs[1], labels[1], dLoss[1], dl[1], -100, eps);
                same("crossEntropyBackward " + dt + " eps " + eps, dl, tol, 1e-5);
            }
        }
    }

    /** The optimisers repeat the composed definition's roundings, so they agree bit for bit. */
    @Test
    void optimisersAgreeExactly() {
        SplittableRandom rnd = new SplittableRandom(17);
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            long[][] shapes = {{100_003}, {37, 65}};
            Function<Integer, List<View[]>> state = k -> {
                List<View[]> l = new ArrayList<>();
                for (long[] s : shapes) {
                    l.add(zeros(dt, s));
                }
                return l;
            };
            List<View[]> params = new ArrayList<>();
            for (long[] s : shapes) {
                params.add(pair(dt, random(rnd, (int) TestData.numel(s), -1, 1), s));
            }
            List<View[]> m = state.apply(0);
            List<View[]> v = state.apply(1);
            List<View[]> buf = state.apply(2);
            List<View[]> ga = state.apply(3);
            BiFunction<List<View[]>, Integer, List<View>> side = (l, k) -> {
                List<View> out = new ArrayList<>();
                for (View[] p : l) {
                    out.add(p[k]);
                }
                return out;
            };
            for (int step = 1; step <= 3; step++) {
                List<View[]> grads = new ArrayList<>();
                for (long[] s : shapes) {
                    grads.add(pair(dt, random(rnd, (int) TestData.numel(s), -1, 1), s));
                }
                FusedOps.AdamConfig adam = new FusedOps.AdamConfig(0.01, 0.9, 0.999, 1e-8, 0.1, step % 2 == 0, step);
                FusedOps.SgdConfig sgd = new FusedOps.SgdConfig(0.1, 0.9, 0.1, step == 3, 0.01, step == 1);
                FusedOps.RmsPropConfig rms = new FusedOps.RmsPropConfig(0.01, 0.99, 1e-8, 0.1, 0.9, true);
                for (int k = 0; k < 2; k++) {
                    Backend b = k == 0 ? ref : cpu;
                    b.adamStep(side.apply(params, k), side.apply(grads, k), side.apply(m, k), side.apply(v, k), adam);
                    b.sgdStep(side.apply(params, k), side.apply(grads, k), side.apply(buf, k), sgd);
                    b.rmspropStep(side.apply(params, k), side.apply(grads, k), side.apply(v, k), side.apply(buf, k),
                            side.apply(ga, k), rms);
                }
                for (int i = 0; i < shapes.length; i++) {
                    same("optimisers " + dt + " step " + step + " param " + i, params.get(i), 0, 0);
                    same("optimisers " + dt + " step " + step + " m " + i, m.get(i), 0, 0);
                    same("optimisers " + dt + " step " + step + " v " + i, v.get(i), 0, 0);
                    same("optimisers " + dt + " step " + step + " buf " + i, buf.get(i), 0, 0);
                    same("optimisers " + dt + " step " + step + " gradAvg " + i, ga.get(i), 0, 0);
                }
            }
        }
    }
}
