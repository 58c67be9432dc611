package dev.sinew.cpu;

import static dev.sinew.cpu.Arg.D;
import static dev.sinew.cpu.Arg.F;
import static dev.sinew.cpu.Arg.NO;
import static dev.sinew.cpu.Elementwise.DL;
import static dev.sinew.cpu.Elementwise.DS;
import static dev.sinew.cpu.Elementwise.FL;
import static dev.sinew.cpu.Elementwise.FS;

import dev.sinew.DType;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Row-wise fused ops over the last axis: softmax and log-softmax forward and backward, and
 * softmax-cross-entropy forward and backward. Each row is one call of a row kernel: when the row is
 * contiguous in every operand and all share one float dtype, a Vector API kernel (max, then
 * exp-and-sum, then normalise: three passes over a row that sits in L1); otherwise a scalar kernel
 * in double, which is also the definition the vector kernels follow. The formulas and the order of
 * roundings are those of the composed defaults in {@code dev.sinew.spi.Composed}.
 *
 * <p>Rows are split over {@link Parallel} when the op is large. Stateless and thread-safe.
 */
final class Softmax {
    private Softmax() {
    }

    /** One row: {@code off[k]} is operand k's element offset of the row's first element. */
    @FunctionalInterface
    private interface RowKernel {
        void run(long[] off, long row);
    }

    /**
     * Runs {@code kernel} for every row of a space whose rows are the leading axes ({@code lead}) of
     * operands with the given leading strides; {@code cols} elements per row decide the split.
     */
    private static void rows(Parallel par, long[] lead, long[][] leadStrides, long[] base, long cols,
            RowKernel kernel) {
        Strided st = Strided.of(lead, leadStrides);
        long n = st.numel;
        int k = leadStrides.length;
        int parts = (int) Math.min(par.chunks(n * cols, Elementwise.GRAIN), Math.max(1, n));
        par.run(parts, c -> {
            long from = Parallel.align(n, parts, c, 1);
            long to = Parallel.align(n, parts, c + 1, 1);
            long[] row = new long[k];
            long[] index = {from};
            st.forRangeN(base, from, to, (off, len) -> {
                for (long j = 0; j < len; j++) {
                    for (int q = 0; q < k; q++) {
                        row[q] = off[q] + j * st.strides[q][st.rank - 1];
                    }
                    kernel.run(row, index[0]++);
                }
            });
        });
    }

    private static long[] lead(long[] a) {
        return Arrays.copyOf(a, a.length - 1);
    }

    private static long last(long[] a) {
        return a[a.length - 1];
    }

    // ==== softmax / log-softmax ===================================================================

    static void softmax(Parallel par, Arg x, Arg out, boolean log) {
        if (x.rank() < 1) {
            throw new IllegalArgumentException((log ? "logSoftmax" : "softmax") + ": x must have rank >= 1, got []");
        }
        long c = last(x.shape());
        if (x.numel() == 0) {
            return;
        }
        long sx = last(x.strides());
        long so = last(out.strides());
        DType t = out.dtype();
        boolean fast = x.dtype() == t && sx == 1 && so == 1 && t.isFloating();
        MemorySegment xs = x.seg();
        MemorySegment os = out.seg();
        rows(par, lead(x.shape()), new long[][] {lead(x.strides()), lead(out.strides())},
                new long[] {x.offset(), out.offset()}, c, (off, r) -> {
                    if (fast && t == DType.FLOAT32) {
                        softmaxF32(xs, off[0], os, off[1], c, log);
                    } else if (fast) {
                        softmaxF64(xs, off[0], os, off[1], c, log);
                    } else {
                        softmaxScalar(x, off[0], sx, out, off[1], so, c, log);
                    }
                });
    }

    /** Scalar reference: {@code out = x − max − log Σ exp(x − max)} or {@code exp(x − max) / Σ exp(x − max)}. */
    static void softmaxScalar(Arg x, long xo, long sx, Arg out, long oo, long so, long c, boolean log) {
        double max = Double.NEGATIVE_INFINITY;
        for (long i = 0; i < c; i++) {
            max = Math.max(max, x.get(xo + i * sx));
        }
        double sum = 0;
        for (long i = 0; i < c; i++) {
            sum += Math.exp(x.get(xo + i * sx) - max);
        }
        double logSum = Math.log(sum);
        for (long i = 0; i < c; i++) {
            double shifted = x.get(xo + i * sx) - max;
            out.set(oo + i * so, log ? shifted - logSum : Math.exp(shifted) / sum);
        }
    }

    // [C] row, contiguous
    static void softmaxF32(MemorySegment xs, long xo, MemorySegment os, long oo, long c, boolean log) {
        float max = (float) Reductions.maxF32(xs, xo, 1, c, true);
        FloatVector mv = FloatVector.broadcast(FS, max);
        FloatVector acc = FloatVector.zero(FS);
        long bound = FS.loopBound(c);
        long i = 0;
        for (; i < bound; i += FL) {
            FloatVector e = FloatVector.fromMemorySegment(FS, xs, (xo + i) << 2, NO).sub(mv)
                    .lanewise(VectorOperators.EXP);
            if (!log) {
                e.intoMemorySegment(os, (oo + i) << 2, NO);
            }
            acc = acc.add(e);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < c; i++) {
            float e = (float) Math.exp(xs.get(F, (xo + i) << 2) - max);
            if (!log) {
                os.set(F, (oo + i) << 2, e);
            }
            sum += e;
        }
        if (log) {
            FloatVector ls = FloatVector.broadcast(FS, (float) Math.log(sum));
            for (i = 0; i < bound; i += FL) {
                FloatVector.fromMemorySegment(FS, xs, (xo + i) << 2, NO).sub(mv).sub(ls)
                        .intoMemorySegment(os, (oo + i) << 2, NO);
            }
            float l = (float) Math.log(sum);
            for (; i < c; i++) {
                os.set(F, (oo + i) << 2, xs.get(F, (xo + i) << 2) - max - l);
            }
        } else {
            float inv = 1f / sum; // a multiply per element instead of a divide (within an ulp of e / sum)
            FloatVector sv = FloatVector.broadcast(FS, inv);
            for (i = 0; i < bound; i += FL) {
                FloatVector.fromMemorySegment(FS, os, (oo + i) << 2, NO).mul(sv).intoMemorySegment(os, (oo + i) << 2, NO);
            }
            for (; i < c; i++) {
                os.set(F, (oo + i) << 2, os.get(F, (oo + i) << 2) * inv);
            }
        }
    }

    static void softmaxF64(MemorySegment xs, long xo, MemorySegment os, long oo, long c, boolean log) {
        double max = Reductions.maxF64(xs, xo, 1, c, true);
        DoubleVector mv = DoubleVector.broadcast(DS, max);
        DoubleVector acc = DoubleVector.zero(DS);
        long bound = DS.loopBound(c);
        long i = 0;
        for (; i < bound; i += DL) {
            DoubleVector e = DoubleVector.fromMemorySegment(DS, xs, (xo + i) << 3, NO).sub(mv)
                    .lanewise(VectorOperators.EXP);
            if (!log) {
                e.intoMemorySegment(os, (oo + i) << 3, NO);
            }
            acc = acc.add(e);
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < c; i++) {
            double e = Math.exp(xs.get(D, (xo + i) << 3) - max);
            if (!log) {
                os.set(D, (oo + i) << 3, e);
            }
            sum += e;
        }
        if (log) {
            double l = Math.log(sum);
            DoubleVector ls = DoubleVector.broadcast(DS, l);
            for (i = 0; i < bound; i += DL) {
                DoubleVector.fromMemorySegment(DS, xs, (xo + i) << 3, NO).sub(mv).sub(ls)
                        .intoMemorySegment(os, (oo + i) << 3, NO);
            }
            for (; i < c; i++) {
                os.set(D, (oo + i) << 3, xs.get(D, (xo + i) << 3) - max - l);
            }
        } else {
            DoubleVector sv = DoubleVector.broadcast(DS, sum);
            for (i = 0; i < bound; i += DL) {
                DoubleVector.fromMemorySegment(DS, os, (oo + i) << 3, NO).div(sv).intoMemorySegment(os, (oo + i) << 3, NO);
            }
            for (; i < c; i++) {
                os.set(D, (oo + i) << 3, os.get(D, (oo + i) << 3) / sum);
            }
        }
    }

    // ==== softmax backward ========================================================================

    static void softmaxBackward(Parallel par, Arg y, Arg dy, Arg dx, boolean log) {
        if (y.rank() < 1) {
            throw new IllegalArgumentException((log ? "logSoftmaxBackward" : "softmaxBackward")
                    + ": y must have rank >= 1, got []");
        }
        if (y.numel() == 0) {
            return;
        }
        long c = last(y.shape());
        long sy = last(y.strides());
        long sd = last(dy.strides());
        long sx = last(dx.strides());
        DType t = dx.dtype();
        boolean fast = y.dtype() == t && dy.dtype() == t && sy == 1 && sd == 1 && sx == 1 && t.isFloating();
        MemorySegment ys = y.seg();
        MemorySegment ds = dy.seg();
        MemorySegment xs = dx.seg();
        rows(par, lead(y.shape()), new long[][] {lead(y.strides()), lead(dy.strides()), lead(dx.strides())},
                new long[] {y.offset(), dy.offset(), dx.offset()}, c, (off, r) -> {
                    if (fast && t == DType.FLOAT32) {
                        backwardF32(ys, off[0], ds, off[1], xs, off[2], c, log);
                    } else if (fast) {
                        backwardF64(ys, off[0], ds, off[1], xs, off[2], c, log);
                    } else {
                        backwardScalar(y, off[0], sy, dy, off[1], sd, dx, off[2], sx, c, log);
                    }
                });
    }

    /** Scalar reference: softmax {@code dx = y ⊙ (dy − Σ dy⊙y)}; log-softmax {@code dx = dy − exp(y)·Σ dy}. */
    static void backwardScalar(Arg y, long yo, long sy, Arg dy, long go, long sd, Arg dx, long xo, long sx, long c,
            boolean log) {
        double s = 0;
        for (long i = 0; i < c; i++) {
            double g = dy.get(go + i * sd);
            s += log ? g : g * y.get(yo + i * sy);
        }
        for (long i = 0; i < c; i++) {
            double yi = y.get(yo + i * sy);
            double g = dy.get(go + i * sd);
            dx.set(xo + i * sx, log ? g - Math.exp(yi) * s : yi * (g - s));
        }
    }

    static void backwardF32(MemorySegment ys, long yo, MemorySegment ds, long go, MemorySegment xs, long xo, long c,
            boolean log) {
        long bound = FS.loopBound(c);
        FloatVector acc = FloatVector.zero(FS);
        long i = 0;
        for (; i < bound; i += FL) {
            FloatVector g = FloatVector.fromMemorySegment(FS, ds, (go + i) << 2, NO);
            acc = log ? acc.add(g) : g.fma(FloatVector.fromMemorySegment(FS, ys, (yo + i) << 2, NO), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < c; i++) {
            float g = ds.get(F, (go + i) << 2);
            s += log ? g : g * ys.get(F, (yo + i) << 2);
        }
        FloatVector sv = FloatVector.broadcast(FS, s);
        for (i = 0; i < bound; i += FL) {
            FloatVector yv = FloatVector.fromMemorySegment(FS, ys, (yo + i) << 2, NO);
            FloatVector g = FloatVector.fromMemorySegment(FS, ds, (go + i) << 2, NO);
            FloatVector r = log ? g.sub(yv.lanewise(VectorOperators.EXP).mul(sv)) : yv.mul(g.sub(sv));
            r.intoMemorySegment(xs, (xo + i) << 2, NO);
        }
        for (; i < c; i++) {
            float yi = ys.get(F, (yo + i) << 2);
            float g = ds.get(F, (go + i) << 2);
            xs.set(F, (xo + i) << 2, log ? g - (float) Math.exp(yi) * s : yi * (g - s));
        }
    }

    static void backwardF64(MemorySegment ys, long yo, MemorySegment ds, long go, MemorySegment xs, long xo, long c,
            boolean log) {
        long bound = DS.loopBound(c);
        DoubleVector acc = DoubleVector.zero(DS);
        long i = 0;
        for (; i < bound; i += DL) {
            DoubleVector g = DoubleVector.fromMemorySegment(DS, ds, (go + i) << 3, NO);
            acc = log ? acc.add(g) : g.fma(DoubleVector.fromMemorySegment(DS, ys, (yo + i) << 3, NO), acc);
        }
        double s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < c; i++) {
            double g = ds.get(D, (go + i) << 3);
            s += log ? g : g * ys.get(D, (yo + i) << 3);
        }
        DoubleVector sv = DoubleVector.broadcast(DS, s);
        for (i = 0; i < bound; i += DL) {
            DoubleVector yv = DoubleVector.fromMemorySegment(DS, ys, (yo + i) << 3, NO);
            DoubleVector g = DoubleVector.fromMemorySegment(DS, ds, (go + i) << 3, NO);
            DoubleVector r = log ? g.sub(yv.lanewise(VectorOperators.EXP).mul(sv)) : yv.mul(g.sub(sv));
            r.intoMemorySegment(xs, (xo + i) << 3, NO);
        }
        for (; i < c; i++) {
            double yi = ys.get(D, (yo + i) << 3);
            double g = ds.get(D, (go + i) << 3);
            xs.set(D, (xo + i) << 3, log ? g - Math.exp(yi) * s : yi * (g - s));
        }
    }

    // ==== softmax cross-entropy ===================================================================

    private static void checkCrossEntropy(String op, Arg logits, Arg labels, Arg perRow) {
        if (logits.rank() != 2) {
            throw new IllegalArgumentException(op + ": logits/probs must be [N, C], got " + Arrays.toString(logits.shape()));
        }
        long n = logits.shape()[0];
        if (labels.rank() != 1 || labels.shape()[0] != n) {
            throw new IllegalArgumentException(op + ": labels must be [" + n + "], got " + Arrays.toString(labels.shape()));
        }
        if (perRow.rank() != 1 || perRow.shape()[0] != n) {
            throw new IllegalArgumentException(op + ": per-row loss must be [" + n + "], got "
                    + Arrays.toString(perRow.shape()));
        }
    }

    /**
     * Per row n with label y: {@code probs = softmax(x)}; loss = 0 when {@code y == ignoreIndex}, else
     * {@code (1−ε)·(lse − x_y) + ε·(lse − mean(x))} with {@code lse = log Σ exp(x)} (the smoothed
     * target's {@code −Σ target·log p}; a label outside [0, C) contributes only the ε part, as the
     * composed one-hot has no 1 for it).
     */
    static void crossEntropy(Parallel par, Arg logits, Arg labels, Arg loss, Arg probs, long ignoreIndex, double eps) {
        checkCrossEntropy("softmaxCrossEntropy", logits, labels, loss);
        if (!Arrays.equals(probs.shape(), logits.shape())) {
            throw new IllegalArgumentException("softmaxCrossEntropy: probs has shape " + Arrays.toString(probs.shape())
                    + ", expected " + Arrays.toString(logits.shape()));
        }
        long n = logits.shape()[0];
        long c = logits.shape()[1];
        if (n == 0 || c == 0) {
            return;
        }
        long sx = logits.strides()[1];
        long sp = probs.strides()[1];
        long sl = labels.strides()[0];
        long sloss = loss.strides()[0];
        DType t = probs.dtype();
        boolean fast = logits.dtype() == t && t == DType.FLOAT32 && sx == 1 && sp == 1;
        MemorySegment xs = logits.seg();
        MemorySegment ps = probs.seg();
        rows(par, new long[] {n}, new long[][] {{logits.strides()[0]}, {probs.strides()[0]}},
                new long[] {logits.offset(), probs.offset()}, c, (off, r) -> {
                    long label = labels.getLong(labels.offset() + r * sl);
                    long lo = loss.offset() + r * sloss;
                    double lse;
                    double sumX;
                    if (fast) {
                        // [C]: max; e = exp(x − max) into probs, Σe and Σx; probs /= Σe
                        float max = (float) Reductions.maxF32(xs, off[0], 1, c, true);
                        FloatVector mv = FloatVector.broadcast(FS, max);
                        FloatVector se = FloatVector.zero(FS);
                        FloatVector sxv = FloatVector.zero(FS);
                        long bound = FS.loopBound(c);
                        long i = 0;
                        for (; i < bound; i += FL) {
                            FloatVector xv = FloatVector.fromMemorySegment(FS, xs, (off[0] + i) << 2, NO);
                            FloatVector e = xv.sub(mv).lanewise(VectorOperators.EXP);
                            e.intoMemorySegment(ps, (off[1] + i) << 2, NO);
                            se = se.add(e);
                            sxv = sxv.add(xv);
                        }
                        double sum = se.reduceLanes(VectorOperators.ADD);
                        double sx1 = sxv.reduceLanes(VectorOperators.ADD);
                        for (; i < c; i++) {
                            float xv = xs.get(F, (off[0] + i) << 2);
                            float e = (float) Math.exp(xv - max);
                            ps.set(F, (off[1] + i) << 2, e);
                            sum += e;
                            sx1 += xv;
                        }
                        float inv = (float) (1.0 / sum);
                        FloatVector sv = FloatVector.broadcast(FS, inv);
                        for (i = 0; i < bound; i += FL) {
                            FloatVector.fromMemorySegment(FS, ps, (off[1] + i) << 2, NO).mul(sv)
                                    .intoMemorySegment(ps, (off[1] + i) << 2, NO);
                        }
                        for (; i < c; i++) {
                            ps.set(F, (off[1] + i) << 2, ps.get(F, (off[1] + i) << 2) * inv);
                        }
                        lse = max + Math.log(sum);
                        sumX = sx1;
                    } else {
                        double max = Double.NEGATIVE_INFINITY;
                        double sx1 = 0;
                        for (long i = 0; i < c; i++) {
                            double v = logits.get(off[0] + i * sx);
                            max = Math.max(max, v);
                            sx1 += v;
                        }
                        double sum = 0;
                        for (long i = 0; i < c; i++) {
                            sum += Math.exp(logits.get(off[0] + i * sx) - max);
                        }
                        for (long i = 0; i < c; i++) {
                            probs.set(off[1] + i * sp, Math.exp(logits.get(off[0] + i * sx) - max) / sum);
                        }
                        lse = max + Math.log(sum);
                        sumX = sx1;
                    }
                    double value = 0;
                    if (label != ignoreIndex) {
                        value = eps * (lse - sumX / c);
                        if (label >= 0 && label < c) {
                            value += (1 - eps) * (lse - logits.get(off[0] + label * sx));
                        }
                    }
                    loss.set(lo, value);
                });
    }

    /**
     * {@code dLogits[n, c] = dLoss[n]·(probs[n, c] − target[n, c])}, target {@code 1 − ε + ε/C} at the
     * label and {@code ε/C} elsewhere (both rounded to the dtype first, as the composed target is);
     * rows with the ignored label get 0.
     */
    static void crossEntropyBackward(Parallel par, Arg probs, Arg labels, Arg dLoss, Arg dLogits, long ignoreIndex,
            double eps) {
        checkCrossEntropy("softmaxCrossEntropyBackward", probs, labels, dLoss);
        if (!Arrays.equals(dLogits.shape(), probs.shape())) {
            throw new IllegalArgumentException("softmaxCrossEntropyBackward: dLogits has shape "
                    + Arrays.toString(dLogits.shape()) + ", expected " + Arrays.toString(probs.shape()));
        }
        long n = probs.shape()[0];
        long c = probs.shape()[1];
        if (n == 0 || c == 0) {
            return;
        }
        long sp = probs.strides()[1];
        long sd = dLogits.strides()[1];
        DType t = dLogits.dtype();
        boolean f32 = t == DType.FLOAT32;
        double offD = eps / c;
        double onD = 1.0 - eps + offD;
        float offF = (float) offD;
        float onF = (float) onD;
        boolean fast = f32 && probs.dtype() == t && sp == 1 && sd == 1;
        MemorySegment ps = probs.seg();
        MemorySegment gs = dLogits.seg();
        rows(par, new long[] {n}, new long[][] {{probs.strides()[0]}, {dLogits.strides()[0]}},
                new long[] {probs.offset(), dLogits.offset()}, c, (off, r) -> {
                    long label = labels.getLong(labels.offset() + r * labels.strides()[0]);
                    double dl = dLoss.get(dLoss.offset() + r * dLoss.strides()[0]);
                    boolean valid = label != ignoreIndex;
                    if (fast && !valid) {
                        Elementwise.fillF32(gs, off[1], 1, c, 0f);
                        return;
                    }
                    if (fast) {
                        float dlf = (float) dl;
                        FloatVector dv = FloatVector.broadcast(FS, dlf);
                        FloatVector ov = FloatVector.broadcast(FS, offF);
                        long bound = FS.loopBound(c);
                        long i = 0;
                        for (; i < bound; i += FL) {
                            FloatVector.fromMemorySegment(FS, ps, (off[0] + i) << 2, NO).sub(ov).mul(dv)
                                    .intoMemorySegment(gs, (off[1] + i) << 2, NO);
                        }
                        for (; i < c; i++) {
                            gs.set(F, (off[1] + i) << 2, (ps.get(F, (off[0] + i) << 2) - offF) * dlf);
                        }
                        if (label >= 0 && label < c) {
                            gs.set(F, (off[1] + label) << 2, (ps.get(F, (off[0] + label) << 2) - onF) * dlf);
                        }
                        return;
                    }
                    double on = f32 ? onF : onD;
                    double offT = f32 ? offF : offD;
                    for (long i = 0; i < c; i++) {
                        double target = i == label ? on : offT;
                        double v = valid ? (probs.get(off[0] + i * sp) - target) * dl : 0.0;
                        dLogits.set(off[1] + i * sd, v);
                    }
                });
    }
}
