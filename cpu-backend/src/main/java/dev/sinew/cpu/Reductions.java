package dev.sinew.cpu;

import static dev.sinew.cpu.Arg.D;
import static dev.sinew.cpu.Arg.F;
import static dev.sinew.cpu.Arg.L;
import static dev.sinew.cpu.Arg.NO;
import static dev.sinew.cpu.Elementwise.DL;
import static dev.sinew.cpu.Elementwise.DS;
import static dev.sinew.cpu.Elementwise.FL;
import static dev.sinew.cpu.Elementwise.FS;

import dev.sinew.DType;
import dev.sinew.spi.ReduceOp;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Reductions (SUM, MAX, MIN over any set of axes; ARGMAX over one) of strided operands.
 *
 * <p>The axes of {@code x} are split into kept and reduced groups (size-1 axes dropped, neighbours of
 * one kind merged where the strides allow). Two kernels cover the common shapes:
 * <ul>
 *   <li><b>rows</b> — for each kept element, reduce the reduced space; when its innermost axis has
 *       stride 1 (reduction over the last axis, e.g. {@code [M, N] -> [M, 1]}) the run is a Vector API
 *       loop with four accumulators, else a scalar loop (the reference form);</li>
 *   <li><b>columns</b> — when the innermost axis is kept and contiguous in x and out (reduction over
 *       the first axis of {@code [M, N] -> [1, N]}, a bias gradient), rows of x are accumulated into a
 *       block of output columns with vector adds, reading x once in order.</li>
 * </ul>
 * FLOAT32 sums accumulate in float lanes over blocks of at most {@value #BLOCK} terms (row kernel) or
 * {@value #FOLD} rows (column kernel) and in double across blocks, which keeps the error near the
 * reference's (double accumulation). MAX/MIN propagate
 * NaN; ARGMAX returns the first maximum, NaN counting as the largest (the reference's rule).
 * Work is split over kept elements, or over the reduced space for a full reduction. Stateless.
 */
final class Reductions {
    /** Float terms summed in float lanes before the partial sum moves to double. */
    static final int BLOCK = 4096;
    /** Output columns per block in the column kernel (1 KiB of floats: stays in L1). */
    private static final int COLS = 256;
    /** Rows accumulated in float before a column block is folded into its double sums. */
    private static final int FOLD = 64;

    private Reductions() {
    }

    /** The value an empty reduction writes. */
    private static double identity(ReduceOp op) {
        return switch (op) {
            case SUM, ARGMAX -> 0;
            case MAX -> Double.NEGATIVE_INFINITY;
            case MIN -> Double.POSITIVE_INFINITY;
        };
    }

    static void reduce(Parallel par, ReduceOp op, Arg x, Arg out) {
        int rank = x.rank();
        if (out.rank() != rank) {
            throw new IllegalArgumentException("reduce " + op + ": out " + Arrays.toString(out.shape())
                    + " must have the rank of x " + Arrays.toString(x.shape()));
        }
        if (x.numel() == 0) { // an empty reduction writes the identity (±∞, or the long extremes for INT64)
            if (out.numel() > 0) {
                boolean longs = x.dtype() == DType.INT64 && out.dtype() == DType.INT64;
                double v = !longs || op == ReduceOp.SUM || op == ReduceOp.ARGMAX ? identity(op)
                        : op == ReduceOp.MAX ? (double) Long.MIN_VALUE : (double) Long.MAX_VALUE;
                Elementwise.fill(par, out, v);
            }
            return;
        }
        // ---- classify and merge axes (original order) -----------------------------------------
        long[] size = new long[rank];
        long[] xs = new long[rank];
        long[] os = new long[rank];
        boolean[] red = new boolean[rank];
        int g = 0;
        int reducedAxes = 0;
        for (int d = 0; d < rank; d++) {
            long n = x.shape()[d];
            if (n == 1) {
                continue;
            }
            boolean r = out.shape()[d] == 1;
            if (!r && out.shape()[d] != n) {
                throw new IllegalArgumentException("reduce " + op + ": out " + Arrays.toString(out.shape())
                        + " must match x " + Arrays.toString(x.shape()) + " or be 1 on each axis (axis " + d + ")");
            }
            if (g > 0 && red[g - 1] == r && xs[g - 1] == x.strides()[d] * n
                    && (r || os[g - 1] == out.strides()[d] * n)) {
                size[g - 1] *= n;
                xs[g - 1] = x.strides()[d];
                os[g - 1] = r ? 0 : out.strides()[d];
                continue;
            }
            size[g] = n;
            xs[g] = x.strides()[d];
            os[g] = r ? 0 : out.strides()[d];
            red[g] = r;
            reducedAxes += r ? 1 : 0;
            g++;
        }
        if (op == ReduceOp.ARGMAX && out.dtype() != DType.INT64) {
            throw new IllegalArgumentException("reduce ARGMAX: out must be INT64, got " + out.dtype());
        }
        if (reducedAxes == 0) { // nothing to reduce: out = x (ARGMAX over a size-1 axis is 0)
            if (op == ReduceOp.ARGMAX) {
                Elementwise.fill(par, out, 0);
            } else {
                Elementwise.copy(par, x, out);
            }
            return;
        }
        if (op == ReduceOp.ARGMAX && reducedAxes > 1) {
            throw new IllegalArgumentException("reduce ARGMAX: reduces exactly one axis, x " + Arrays.toString(x.shape())
                    + " -> out " + Arrays.toString(out.shape()));
        }
        int nk = g - reducedAxes;
        long[] kShape = new long[nk];
        long[] kx = new long[nk];
        long[] ko = new long[nk];
        long[] rShape = new long[reducedAxes];
        long[] rx = new long[reducedAxes];
        for (int i = 0, k = 0, r = 0; i < g; i++) {
            if (red[i]) {
                rShape[r] = size[i];
                rx[r++] = xs[i];
            } else {
                kShape[k] = size[i];
                kx[k] = xs[i];
                ko[k++] = os[i];
            }
        }
        Strided rsp = Strided.of(rShape, rx);
        boolean sameFloat = x.dtype() == out.dtype() && x.dtype().isFloating();
        if (sameFloat && op != ReduceOp.ARGMAX && !red[g - 1] && xs[g - 1] == 1 && os[g - 1] == 1) {
            columns(par, op, x, out, kShape, kx, ko, rsp);
        } else if (nk == 0) {
            whole(par, op, x, out, rsp);
        } else {
            rows(par, op, x, out, Strided.of(kShape, kx, ko), rsp);
        }
    }

    // ==== per-output reduction ("rows") ==========================================================

    /** Mutable result of reducing one slice: a double (floats), a long (INT64 values) and an index. */
    private static final class Acc {
        final ReduceOp op;
        final boolean integer;
        double d;
        long l;
        long arg = -1;   // ARGMAX: index of the best so far, -1 before the first
        long seen;       // ARGMAX: elements visited before the current run

        Acc(ReduceOp op, boolean integer) {
            this.op = op;
            this.integer = integer;
            reset();
        }

        void reset() {
            d = identity(op);
            l = switch (op) {
                case MAX -> Long.MIN_VALUE;
                case MIN -> Long.MAX_VALUE;
                default -> 0;
            };
            arg = -1;
            seen = 0;
        }

        /** Folds in the run of {@code n} elements at element offset {@code o}, stride {@code s}. */
        void run(MemorySegment seg, DType t, long o, long s, long n) {
            if (op == ReduceOp.ARGMAX) {
                argmaxRun(seg, t, o, s, n);
            } else if (integer) {
                for (long i = 0; i < n; i++) {
                    long v = seg.get(L, (o + i * s) << 3);
                    l = switch (op) {
                        case SUM -> l + v;
                        case MAX -> Math.max(l, v);
                        default -> Math.min(l, v);
                    };
                }
            } else if (t == DType.FLOAT32) {
                double v = switch (op) {
                    case SUM -> sumF32(seg, o, s, n);
                    case MAX -> maxF32(seg, o, s, n, true);
                    default -> maxF32(seg, o, s, n, false);
                };
                d = combine(op, d, v);
            } else if (t == DType.FLOAT64) {
                double v = switch (op) {
                    case SUM -> sumF64(seg, o, s, n);
                    case MAX -> maxF64(seg, o, s, n, true);
                    default -> maxF64(seg, o, s, n, false);
                };
                d = combine(op, d, v);
            } else { // INT64 values into a float result
                for (long i = 0; i < n; i++) {
                    d = combine(op, d, (double) seg.get(L, (o + i * s) << 3));
                }
            }
        }

        // first maximum; for floats NaN beats every number and the first NaN wins
        private void argmaxRun(MemorySegment seg, DType t, long o, long s, long n) {
            for (long i = 0; i < n; i++) {
                long at = o + i * s;
                if (t == DType.INT64) {
                    long v = seg.get(L, at << 3);
                    if (arg < 0 || v > l) {
                        l = v;
                        arg = seen + i;
                    }
                } else {
                    double v = t == DType.FLOAT32 ? seg.get(F, at << 2) : seg.get(D, at << 3);
                    if (arg < 0 || (!Double.isNaN(d) && (v > d || Double.isNaN(v)))) {
                        d = v;
                        arg = seen + i;
                    }
                }
            }
            seen += n;
        }

        void store(Arg out, long at) {
            if (op == ReduceOp.ARGMAX) {
                Arg.setLong(out.seg(), out.dtype(), at, arg);
            } else if (integer) {
                Arg.setLong(out.seg(), out.dtype(), at, l);
            } else {
                Arg.set(out.seg(), out.dtype(), at, d);
            }
        }

        /** Merges a later partial result into this one (a full reduction split into chunks). */
        void merge(Acc later) {
            if (op == ReduceOp.ARGMAX) {
                if (later.arg < 0) {
                    return;
                }
                boolean better;
                if (integer) {
                    better = arg < 0 || later.l > l;
                } else {
                    better = arg < 0 || (!Double.isNaN(d) && (later.d > d || Double.isNaN(later.d)));
                }
                if (better) {
                    d = later.d;
                    l = later.l;
                    arg = later.arg;
                }
            } else if (integer) {
                l = switch (op) {
                    case SUM -> l + later.l;
                    case MAX -> Math.max(l, later.l);
                    default -> Math.min(l, later.l);
                };
            } else {
                d = combine(op, d, later.d);
            }
        }
    }

    private static double combine(ReduceOp op, double acc, double v) {
        return switch (op) {
            case SUM -> acc + v;
            case MAX -> Math.max(acc, v);
            default -> Math.min(acc, v);
        };
    }

    /** Reduces {@code rsp} at x offset {@code xo} into {@code acc} (already reset). */
    private static void slice(Acc acc, Arg x, Strided rsp, long xo, long from, long to) {
        MemorySegment seg = x.seg();
        DType t = x.dtype();
        if (rsp.rank == 1) {
            long s = rsp.strides[0][0];
            acc.seen = from;
            acc.run(seg, t, xo + from * s, s, to - from);
            return;
        }
        long is = rsp.innerStride(0);
        acc.seen = from;
        rsp.forRange(new long[] {xo}, from, to, (o, u, v, w, n) -> acc.run(seg, t, o, is, n));
    }

    private static void rows(Parallel par, ReduceOp op, Arg x, Arg out, Strided ksp, Strided rsp) {
        boolean integer = x.dtype() == DType.INT64 && op != ReduceOp.ARGMAX && out.dtype() == DType.INT64;
        boolean integerValues = x.dtype() == DType.INT64;
        long kept = ksp.numel;
        long kix = ksp.innerStride(0);
        long kio = ksp.innerStride(1);
        long[] base = {x.offset(), out.offset()};
        int chunks = par.chunks(kept * rsp.numel, Elementwise.GRAIN);
        chunks = (int) Math.min(chunks, Math.max(1, kept / 16));
        int parts = chunks;
        par.run(parts, c -> {
            Acc acc = new Acc(op, integer || (integerValues && op == ReduceOp.ARGMAX));
            long from = Parallel.align(kept, parts, c, 16);
            long to = Parallel.align(kept, parts, c + 1, 16);
            ksp.forRange(base, from, to, (xo, oo, u, v, n) -> {
                for (long j = 0; j < n; j++) {
                    acc.reset();
                    slice(acc, x, rsp, xo + j * kix, 0, rsp.numel);
                    acc.store(out, oo + j * kio);
                }
            });
        });
    }

    /** Everything reduces to one element: split the reduced space, merge partials in order. */
    private static void whole(Parallel par, ReduceOp op, Arg x, Arg out, Strided rsp) {
        boolean integer = x.dtype() == DType.INT64 && (op == ReduceOp.ARGMAX || out.dtype() == DType.INT64);
        long n = rsp.numel;
        int parts = par.chunks(n, Elementwise.GRAIN);
        Acc[] partial = new Acc[parts];
        par.run(parts, c -> {
            Acc acc = new Acc(op, integer);
            slice(acc, x, rsp, x.offset(), Parallel.align(n, parts, c, 64), Parallel.align(n, parts, c + 1, 64));
            partial[c] = acc;
        });
        for (int c = 1; c < parts; c++) {
            partial[0].merge(partial[c]);
        }
        partial[0].store(out, out.offset());
    }

    // ==== vector runs (with scalar forms beside them) ============================================

    /** Σ x[o + i·s], i < n, for FLOAT32, accumulated in float lanes per block and in double across blocks. */
    static double sumF32(MemorySegment xs, long o, long s, long n) {
        double total = 0;
        if (s != 1) {
            for (long i = 0; i < n; i++) { // scalar reference
                total += xs.get(F, (o + i * s) << 2);
            }
            return total;
        }
        long i = 0;
        while (i < n) {
            long end = Math.min(n, i + BLOCK);
            FloatVector a0 = FloatVector.zero(FS);
            FloatVector a1 = FloatVector.zero(FS);
            FloatVector a2 = FloatVector.zero(FS);
            FloatVector a3 = FloatVector.zero(FS);
            long bound4 = i + (end - i) / (4L * FL) * (4L * FL);
            for (; i < bound4; i += 4L * FL) {
                long b = (o + i) << 2;
                a0 = a0.add(FloatVector.fromMemorySegment(FS, xs, b, NO));
                a1 = a1.add(FloatVector.fromMemorySegment(FS, xs, b + 4L * FL, NO));
                a2 = a2.add(FloatVector.fromMemorySegment(FS, xs, b + 8L * FL, NO));
                a3 = a3.add(FloatVector.fromMemorySegment(FS, xs, b + 12L * FL, NO));
            }
            long bound = i + FS.loopBound(end - i);
            for (; i < bound; i += FL) {
                a0 = a0.add(FloatVector.fromMemorySegment(FS, xs, (o + i) << 2, NO));
            }
            total += a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
            for (; i < end; i++) {
                total += xs.get(F, (o + i) << 2);
            }
        }
        return total;
    }

    static double sumF64(MemorySegment xs, long o, long s, long n) {
        double total = 0;
        long i = 0;
        if (s == 1) {
            DoubleVector a0 = DoubleVector.zero(DS);
            DoubleVector a1 = DoubleVector.zero(DS);
            DoubleVector a2 = DoubleVector.zero(DS);
            DoubleVector a3 = DoubleVector.zero(DS);
            long bound4 = n / (4L * DL) * (4L * DL);
            for (; i < bound4; i += 4L * DL) {
                long b = (o + i) << 3;
                a0 = a0.add(DoubleVector.fromMemorySegment(DS, xs, b, NO));
                a1 = a1.add(DoubleVector.fromMemorySegment(DS, xs, b + 8L * DL, NO));
                a2 = a2.add(DoubleVector.fromMemorySegment(DS, xs, b + 16L * DL, NO));
                a3 = a3.add(DoubleVector.fromMemorySegment(DS, xs, b + 24L * DL, NO));
            }
            long bound = DS.loopBound(n);
            for (; i < bound; i += DL) {
                a0 = a0.add(DoubleVector.fromMemorySegment(DS, xs, (o + i) << 3, NO));
            }
            total = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            total += xs.get(D, (o + i * s) << 3);
        }
        return total;
    }

    /** max (or min) of the run, NaN propagating (Math.max semantics in every lane). */
    static double maxF32(MemorySegment xs, long o, long s, long n, boolean max) {
        float best = max ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
        long i = 0;
        if (s == 1 && n >= FL) {
            FloatVector a0 = FloatVector.broadcast(FS, best);
            FloatVector a1 = a0;
            long bound2 = n / (2L * FL) * (2L * FL);
            for (; i < bound2; i += 2L * FL) {
                long b = (o + i) << 2;
                FloatVector v0 = FloatVector.fromMemorySegment(FS, xs, b, NO);
                FloatVector v1 = FloatVector.fromMemorySegment(FS, xs, b + 4L * FL, NO);
                a0 = max ? a0.max(v0) : a0.min(v0);
                a1 = max ? a1.max(v1) : a1.min(v1);
            }
            long bound = FS.loopBound(n);
            for (; i < bound; i += FL) {
                FloatVector v0 = FloatVector.fromMemorySegment(FS, xs, (o + i) << 2, NO);
                a0 = max ? a0.max(v0) : a0.min(v0);
            }
            a0 = max ? a0.max(a1) : a0.min(a1);
            // reduceLanes(MAX) is Math.max-based too, but make the NaN rule explicit
            if (a0.test(VectorOperators.IS_NAN).anyTrue()) {
                return Double.NaN;
            }
            best = a0.reduceLanes(max ? VectorOperators.MAX : VectorOperators.MIN);
        }
        for (; i < n; i++) { // scalar reference (and tail)
            float v = xs.get(F, (o + i * s) << 2);
            best = max ? Math.max(best, v) : Math.min(best, v);
        }
        return best;
    }

    static double maxF64(MemorySegment xs, long o, long s, long n, boolean max) {
        double best = max ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        long i = 0;
        if (s == 1 && n >= DL) {
            DoubleVector a0 = DoubleVector.broadcast(DS, best);
            long bound = DS.loopBound(n);
            for (; i < bound; i += DL) {
                DoubleVector v0 = DoubleVector.fromMemorySegment(DS, xs, (o + i) << 3, NO);
                a0 = max ? a0.max(v0) : a0.min(v0);
            }
            if (a0.test(VectorOperators.IS_NAN).anyTrue()) {
                return Double.NaN;
            }
            best = a0.reduceLanes(max ? VectorOperators.MAX : VectorOperators.MIN);
        }
        for (; i < n; i++) {
            double v = xs.get(D, (o + i * s) << 3);
            best = max ? Math.max(best, v) : Math.min(best, v);
        }
        return best;
    }

    // ==== column kernel ===========================================================================

    /**
     * Kept innermost axis contiguous in x and out: for each outer kept index and block of up to
     * {@value #COLS} columns, accumulate every reduced row into the block. {@code kShape} ends with
     * the column axis.
     */
    private static void columns(Parallel par, ReduceOp op, Arg x, Arg out, long[] kShape, long[] kx, long[] ko,
            Strided rsp) {
        int nk = kShape.length;
        long cols = kShape[nk - 1];
        long blocks = (cols + COLS - 1) / COLS;
        Strided outer = Strided.of(Arrays.copyOf(kShape, nk - 1), Arrays.copyOf(kx, nk - 1), Arrays.copyOf(ko, nk - 1));
        long items = outer.numel * blocks;
        long work = items * Math.min(cols, COLS) * rsp.numel;
        int parts = (int) Math.min(par.chunks(work, Elementwise.GRAIN), items);
        boolean f32 = x.dtype() == DType.FLOAT32;
        long[] base = {x.offset(), out.offset()};
        par.run(Math.max(1, parts), p -> {
            float[] accF = f32 ? new float[COLS] : null;
            double[] accD = new double[COLS];
            long from = Parallel.align(items, Math.max(1, parts), p, 1);
            long to = Parallel.align(items, Math.max(1, parts), p + 1, 1);
            for (long it = from; it < to; it++) {
                long ob = it / blocks;
                long c0 = (it - ob * blocks) * COLS;
                int w = (int) Math.min(COLS, cols - c0);
                long[] off = new long[2];
                outer.forRange(base, ob, ob + 1, (xo, oo, u, v, n) -> {
                    off[0] = xo;
                    off[1] = oo;
                });
                if (f32) {
                    columnBlockF32(op, x.seg(), off[0] + c0, rsp, w, accF, accD);
                    for (int j = 0; j < w; j++) {
                        out.seg().set(F, (off[1] + c0 + j) << 2, (float) accD[j]);
                    }
                } else {
                    columnBlockF64(op, x.seg(), off[0] + c0, rsp, w, accD);
                    for (int j = 0; j < w; j++) {
                        out.seg().set(D, (off[1] + c0 + j) << 3, accD[j]);
                    }
                }
            }
        });
    }

    // acc[j] = op over reduced rows r of x[xo + r + j], j < w; result in accD
    private static void columnBlockF32(ReduceOp op, MemorySegment xs, long xo, Strided rsp, int w, float[] acc,
            double[] accD) {
        boolean sum = op == ReduceOp.SUM;
        float init = (float) identity(op);
        Arrays.fill(acc, 0, w, init);
        Arrays.fill(accD, 0, w, 0);
        long is = rsp.innerStride(0);
        int bound = FS.loopBound(w);
        int[] pending = {0};
        rsp.forRange(new long[] {xo}, 0, rsp.numel, (o, u, v, z, n) -> {
            for (long r = 0; r < n; r++) {
                long row = o + r * is;
                int j = 0;
                for (; j < bound; j += FL) {
                    FloatVector a = FloatVector.fromArray(FS, acc, j);
                    FloatVector y = FloatVector.fromMemorySegment(FS, xs, (row + j) << 2, NO);
                    (sum ? a.add(y) : op == ReduceOp.MAX ? a.max(y) : a.min(y)).intoArray(acc, j);
                }
                for (; j < w; j++) { // scalar reference (and tail)
                    float y = xs.get(F, (row + j) << 2);
                    acc[j] = sum ? acc[j] + y : op == ReduceOp.MAX ? Math.max(acc[j], y) : Math.min(acc[j], y);
                }
                if (sum && ++pending[0] == FOLD) {
                    fold(acc, accD, w);
                    pending[0] = 0;
                }
            }
        });
        for (int k = 0; k < w; k++) {
            accD[k] = sum ? accD[k] + acc[k] : acc[k];
        }
    }

    /** {@code accD[0..w) += acc[0..w)} (float lanes widened to double), then {@code acc = 0}. */
    private static void fold(float[] acc, double[] accD, int w) {
        int j = 0;
        if (FL % DL == 0) {
            int bound = FS.loopBound(w);
            FloatVector zero = FloatVector.zero(FS);
            for (; j < bound; j += FL) {
                FloatVector f = FloatVector.fromArray(FS, acc, j);
                for (int part = 0; part < FL / DL; part++) {
                    DoubleVector d = (DoubleVector) f.convertShape(VectorOperators.F2D, DS, part);
                    d.add(DoubleVector.fromArray(DS, accD, j + part * DL)).intoArray(accD, j + part * DL);
                }
                zero.intoArray(acc, j);
            }
        }
        for (; j < w; j++) {
            accD[j] += acc[j];
            acc[j] = 0;
        }
    }

    private static void columnBlockF64(ReduceOp op, MemorySegment xs, long xo, Strided rsp, int w, double[] acc) {
        boolean sum = op == ReduceOp.SUM;
        Arrays.fill(acc, 0, w, identity(op));
        long is = rsp.innerStride(0);
        int bound = DS.loopBound(w);
        rsp.forRange(new long[] {xo}, 0, rsp.numel, (o, u, v, z, n) -> {
            for (long r = 0; r < n; r++) {
                long row = o + r * is;
                int j = 0;
                for (; j < bound; j += DL) {
                    DoubleVector a = DoubleVector.fromArray(DS, acc, j);
                    DoubleVector y = DoubleVector.fromMemorySegment(DS, xs, (row + j) << 3, NO);
                    (sum ? a.add(y) : op == ReduceOp.MAX ? a.max(y) : a.min(y)).intoArray(acc, j);
                }
                for (; j < w; j++) {
                    double y = xs.get(D, (row + j) << 3);
                    acc[j] = sum ? acc[j] + y : op == ReduceOp.MAX ? Math.max(acc[j], y) : Math.min(acc[j], y);
                }
            }
        });
    }
}
