package dev.sinew.cpu;

import static dev.sinew.cpu.Arg.F;
import static dev.sinew.cpu.Arg.NO;

import dev.sinew.DType;
import dev.sinew.cpu.Sgemm.Mat;
import dev.sinew.spi.FusedOps.Conv2dParams;
import dev.sinew.spi.HostStorage;
import dev.sinew.spi.View;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * FLOAT32 2-D convolution (NCHW, any stride, padding, dilation and groups) and its two gradients,
 * on contiguous operands, threaded over the batch:
 *
 * <ul>
 * <li>One input channel per group and a kernel no wider than {@link #DIRECT_MAX_K} (LeNet's first
 * layer, depthwise convolutions) with stride 1: a <em>direct</em> convolution ({@link #directForward},
 * {@link #directFilter}) over a zero-padded copy of the image, vectorised along the output row; no
 * im2col, whose packing would cost as much as the few multiply-adds per pixel. (Its data gradient
 * takes the im2col path below; LeNet never asks for it, the input needs no gradient.)</li>
 * <li>Everything else: im2col per group ({@code col [C_in/G·kH·kW, nb·OH·OW]}, {@code nb} images side
 * by side so that a small image still gives the gemm about {@link #COLS} columns) onto
 * {@link Sgemm}: forward {@code out_g = W_g · col}, data gradient {@code dcol = W_gᵀ · dy_g} then
 * col2im, filter gradient {@code dW_g += dy_g · colᵀ}. A 1×1, stride-1, unpadded convolution uses
 * the input itself as {@code col}, one image at a time.</li>
 * </ul>
 *
 * <p>FLOAT64, strided views and tensors of 2³¹ elements or more are not taken here: {@link CpuBackend}
 * sends them to the composed default ({@code ComposedConv}).
 *
 * <p>Threads: chunks of whole images; the filter gradient sums per-chunk partials at the end (in
 * chunk order, so results do not depend on scheduling).
 *
 * <p>Ownership: one instance per backend; it keeps a pool of scratch buffers ({@link Scratch}),
 * taken for one chunk and returned after, so concurrent calls are safe.
 */
final class Conv {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int VL = S.length();
    /** The largest kernel the direct path takes: beyond it im2col's gemm reuses each input better. */
    static final int DIRECT_MAX_K = 7;

    /**
     * Output rows shorter than this are gathered on the heap ({@link #im2colRows}) and moved to and
     * from native memory in one bulk copy: a segment copy per row costs more than the row itself.
     */
    static final int SHORT_ROW = 32;

    /** Output columns one im2col gemm aims for: small images are batched side by side up to this. */
    static final int COLS = 1024;

    private final Parallel par;
    private final Sgemm sgemm = new Sgemm();
    private final ConcurrentLinkedQueue<Scratch> pool = new ConcurrentLinkedQueue<>();

    Conv(Parallel par) {
        this.par = par;
    }

    /**
     * Growable per-chunk buffers. The gemm operands ({@code col}, {@code tmp}) are native memory, as
     * every other operand {@link Sgemm} sees: mixing heap and native segments in the Vector API's
     * memory accessors pollutes their type profiles and makes C2 deoptimise them over and over.
     */
    static final class Scratch {
        MemorySegment col = MemorySegment.NULL;
        MemorySegment tmp = MemorySegment.NULL;
        MemorySegment dyb = MemorySegment.NULL;
        float[] img = new float[0];
        float[] colA = new float[0];
        float[] xin = new float[0];
        int[] off = new int[0];

        void col(long n) {
            if (col.byteSize() < n << 2) {
                col = Arena.ofAuto().allocate(n << 2, 64);
            }
        }

        void tmp(long n) {
            if (tmp.byteSize() < n << 2) {
                tmp = Arena.ofAuto().allocate(n << 2, 64);
            }
        }

        void dyb(long n) {
            if (dyb.byteSize() < n << 2) {
                dyb = Arena.ofAuto().allocate(n << 2, 64);
            }
        }

        void colA(int n) {
            if (colA.length < n) {
                colA = new float[n];
            }
        }

        void xin(int n) {
            if (xin.length < n) {
                xin = new float[n];
            }
        }

        void img(int n) {
            if (img.length < n) {
                img = new float[n];
            }
        }
    }

    void clear() {
        pool.clear();
        sgemm.clear();
    }

    private Scratch take() {
        Scratch s = pool.poll();
        return s == null ? new Scratch() : s;
    }

    /** True when every non-null view is contiguous FLOAT32 host memory of fewer than 2³¹ elements. */
    static boolean fast(View... vs) {
        for (View v : vs) {
            if (v != null && (v.dtype() != DType.FLOAT32 || !v.isContiguous() || v.numel() >= Integer.MAX_VALUE
                    || !(v.storage() instanceof HostStorage))) {
                return false;
            }
        }
        return true;
    }

    static void requireShape(String op, String arg, View v, long... shape) {
        if (!Arrays.equals(v.shape(), shape)) {
            throw new IllegalArgumentException(op + ": " + arg + " has shape " + Arrays.toString(v.shape())
                    + ", expected " + Arrays.toString(shape));
        }
    }

    /** The geometry of one call, in ints. */
    record Geo(int n, int cin, int h, int w, int cout, int kh, int kw, int oh, int ow, int groups, int sh, int sw,
            int pt, int pl, int dh, int dw) {
        static Geo of(long[] x, long[] wt, long[] o, Conv2dParams p) {
            return new Geo((int) x[0], (int) x[1], (int) x[2], (int) x[3], (int) wt[0], (int) wt[2], (int) wt[3],
                    (int) o[2], (int) o[3], p.groups(), p.strideH(), p.strideW(), p.padTop(), p.padLeft(),
                    p.dilationH(), p.dilationW());
        }

        int cinG() { return cin / groups; }
        int coutG() { return cout / groups; }
        int k() { return cinG() * kh * kw; }   // gemm depth of one group
        int m() { return oh * ow; }            // output pixels per image

        /** Images per gemm on the im2col path. */
        int batch() {
            return direct() || pointwise() ? 1 : Math.max(1, COLS / m());
        }

        boolean pointwise() {
            return kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && oh == h && ow == w;
        }

        /** Direct path: one input channel per group, stride 1, a small kernel. */
        boolean direct() {
            return cinG() == 1 && sh == 1 && sw == 1 && kw <= DIRECT_MAX_K && kh <= DIRECT_MAX_K && !pointwise();
        }

        /** Padded image width for the direct path: every output row of {@code ow} rounded up to vectors, plus the kernel's reach. */
        int padW() {
            return (ow + VL - 1) / VL * VL + (kw - 1) * dw;
        }

        int padH() {
            return oh + (kh - 1) * dh;
        }
    }

    private int chunks(int n, long flopsPerImage) {
        if (par.threads() == 1 || (long) n * flopsPerImage < 2e6) {
            return 1;
        }
        return Math.min(n, par.threads());
    }

    // ---- forward -----------------------------------------------------------------------------

    void conv2d(View x, View w, View bias, View out, Conv2dParams p) {
        long[] os = p.outputShape("conv2d", x.shape(), w.shape());
        requireShape("conv2d", "out", out, os);
        if (bias != null) {
            requireShape("conv2d", "bias", bias, w.shape()[0]);
        }
        Geo g = Geo.of(x.shape(), w.shape(), os, p);
        Arg X = Arg.of(x);
        Arg W = Arg.of(w);
        Arg B = bias == null ? null : Arg.of(bias);
        Arg O = Arg.of(out);
        int chunks = chunks(g.n, 2L * g.cout * g.m() * g.k());
        par.run(chunks, c -> {
            Scratch s = take();
            try {
                int end = g.n * (c + 1) / chunks;
                for (int n = g.n * c / chunks; n < end; n += g.batch()) {
                    int nb = Math.min(g.batch(), end - n);
                    if (g.direct() || g.pointwise()) {
                        forwardImage(s, g, X, W, B, O, n);
                    } else {
                        forwardBatch(s, g, X, W, B, O, n, nb);
                    }
                }
            } finally {
                pool.offer(s);
            }
        });
    }

    private void forwardImage(Scratch s, Geo g, Arg X, Arg W, Arg B, Arg O, int n) {
        int m = g.m();
        int k = g.k();
        if (g.direct()) {
            directForward(s, g, X, W, B, O, n);
            return;
        }
        for (int gr = 0; gr < g.groups; gr++) {
            Mat col = new Mat(X.seg(), X.offset() + ((long) n * g.cin + (long) gr * g.cinG()) * m, m, 1); // pointwise
            long o0 = O.offset() + ((long) n * g.cout + (long) gr * g.coutG()) * m;
            // out_g [C_out/G, OH·OW] = W_g [C_out/G, k] · col [k, OH·OW]
            sgemm.gemm(g.coutG(), m, k, new Mat(W.seg(), W.offset() + (long) gr * g.coutG() * k, k, 1), col,
                    new Mat(O.seg(), o0, m, 1));
            if (B != null) {
                for (int o = 0; o < g.coutG(); o++) {
                    addScalar(O.seg(), o0 + (long) o * m, m, B.seg().get(F, (B.offset() + gr * g.coutG() + o) << 2));
                }
            }
        }
    }

    /**
     * Images {@code n0 .. n0+nb} side by side: {@code col [k, nb·OH·OW]}, {@code tmp [C_out/G, nb·OH·OW]
     * = W_g · col}, then each image's rows copied to out with the bias added.
     */
    private void forwardBatch(Scratch s, Geo g, Arg X, Arg W, Arg B, Arg O, int n0, int nb) {
        int m = g.m();
        int k = g.k();
        int ld = nb * m;
        s.col((long) k * ld);
        s.tmp((long) g.coutG() * ld);
        for (int gr = 0; gr < g.groups; gr++) {
            im2colBatch(s, g, X, n0, nb, gr);
            sgemm.gemm(g.coutG(), ld, k, new Mat(W.seg(), W.offset() + (long) gr * g.coutG() * k, k, 1),
                    new Mat(s.col, 0, ld, 1), new Mat(s.tmp, 0, ld, 1));
            for (int o = 0; o < g.coutG(); o++) {
                float bv = B == null ? 0f : B.seg().get(F, (B.offset() + gr * g.coutG() + o) << 2);
                for (int b = 0; b < nb; b++) {
                    long dst = O.offset() + ((long) (n0 + b) * g.cout + (long) gr * g.coutG() + o) * m;
                    MemorySegment.copy(s.tmp, F, ((long) o * ld + (long) b * m) << 2, O.seg(), F, dst << 2, m);
                    if (B != null) {
                        addScalar(O.seg(), dst, m, bv);
                    }
                }
            }
        }
    }

    /** {@code dyb [C_out/G, nb·OH·OW]}: group gr's dy rows of images {@code n0 .. n0+nb} side by side. */
    private static void gatherDy(Geo g, Arg DY, int n0, int nb, int gr, MemorySegment dyb) {
        int m = g.m();
        int ld = nb * m;
        for (int o = 0; o < g.coutG(); o++) {
            for (int b = 0; b < nb; b++) {
                long src = DY.offset() + ((long) (n0 + b) * g.cout + (long) gr * g.coutG() + o) * m;
                MemorySegment.copy(DY.seg(), F, src << 2, dyb, F, ((long) o * ld + (long) b * m) << 2, m);
            }
        }
    }

    /** {@code seg[off..off+len) += v}. */
    private static void addScalar(MemorySegment seg, long off, int len, float v) {
        FloatVector bv = FloatVector.broadcast(S, v);
        int i = 0;
        for (int bound = S.loopBound(len); i < bound; i += VL) {
            long at = (off + i) << 2;
            FloatVector.fromMemorySegment(S, seg, at, NO).add(bv).intoMemorySegment(seg, at, NO);
        }
        for (; i < len; i++) {
            long at = (off + i) << 2;
            seg.set(F, at, seg.get(F, at) + v);
        }
    }

    /**
     * {@code col[(c·kH + p)·kW + q, i·OW + j] = x[n, gr·C_in/G + c, i·sH − padTop + p·dH, j·sW − padLeft + q·dW]},
     * zero outside the input, written at column {@code c0} of rows {@code ld} long (several images side
     * by side). Rows of stride-1 input are bulk copies.
     */
    static void im2col(Geo g, Arg X, int n, int gr, MemorySegment col, int ld, int c0) {
        MemorySegment xs = X.seg();
        int m = g.m();
        for (int c = 0; c < g.cinG(); c++) {
            long plane = X.offset() + ((long) n * g.cin + (long) gr * g.cinG() + c) * g.h * g.w;
            for (int p = 0; p < g.kh; p++) {
                for (int q = 0; q < g.kw; q++) {
                    long row = (long) ((c * g.kh + p) * g.kw + q) * ld + c0;
                    int colOff = q * g.dw - g.pl;
                    // valid j: 0 <= j·sW + colOff < W
                    int j0 = colOff >= 0 ? 0 : Math.min(g.ow, (-colOff + g.sw - 1) / g.sw);
                    int j1 = Math.max(j0, Math.min(g.ow, g.w - colOff <= 0 ? 0 : (g.w - colOff - 1) / g.sw + 1));
                    for (int i = 0; i < g.oh; i++) {
                        int r = i * g.sh - g.pt + p * g.dh;
                        long at = row + (long) i * g.ow;
                        if (r < 0 || r >= g.h) {
                            zero(col, at, g.ow);
                            continue;
                        }
                        zero(col, at, j0);
                        long src = plane + (long) r * g.w + colOff;
                        if (g.sw == 1) {
                            MemorySegment.copy(xs, F, (src + j0) << 2, col, F, (at + j0) << 2, j1 - j0);
                        } else {
                            for (int j = j0; j < j1; j++) {
                                col.set(F, (at + j) << 2, xs.get(F, (src + (long) j * g.sw) << 2));
                            }
                        }
                        zero(col, at + j1, g.ow - j1);
                    }
                }
            }
        }
    }

    /** {@link #im2col} of images {@code n0 .. n0+nb} into {@code s.col [k, nb·OH·OW]}. */
    private static void im2colBatch(Scratch s, Geo g, Arg X, int n0, int nb, int gr) {
        int m = g.m();
        int ld = nb * m;
        if (g.ow >= SHORT_ROW) {
            for (int b = 0; b < nb; b++) {
                im2col(g, X, n0 + b, gr, s.col, ld, b * m);
            }
            return;
        }
        int k = g.k();
        int chw = g.cinG() * g.h * g.w;
        s.colA(k * ld);
        s.xin(chw);
        for (int b = 0; b < nb; b++) {
            long plane = X.offset() + ((long) (n0 + b) * g.cin + (long) gr * g.cinG()) * g.h * g.w;
            MemorySegment.copy(X.seg(), F, plane << 2, s.xin, 0, chw);
            im2colRows(g, s.xin, s.colA, ld, b * m);
        }
        MemorySegment.copy(s.colA, 0, s.col, F, 0, k * ld);
    }

    /** {@link #im2col} on the heap: {@code x [C_in/G, H, W]} of one image into {@code col [k, ld]} at column c0. */
    static void im2colRows(Geo g, float[] x, float[] col, int ld, int c0) {
        for (int c = 0; c < g.cinG(); c++) {
            int plane = c * g.h * g.w;
            for (int p = 0; p < g.kh; p++) {
                for (int q = 0; q < g.kw; q++) {
                    int row = ((c * g.kh + p) * g.kw + q) * ld + c0;
                    int colOff = q * g.dw - g.pl;
                    int j0 = colOff >= 0 ? 0 : Math.min(g.ow, (-colOff + g.sw - 1) / g.sw);
                    int j1 = Math.max(j0, Math.min(g.ow, g.w - colOff <= 0 ? 0 : (g.w - colOff - 1) / g.sw + 1));
                    for (int i = 0; i < g.oh; i++) {
                        int r = i * g.sh - g.pt + p * g.dh;
                        int at = row + i * g.ow;
                        if (r < 0 || r >= g.h) {
                            Arrays.fill(col, at, at + g.ow, 0f);
                            continue;
                        }
                        Arrays.fill(col, at, at + j0, 0f);
                        int src = plane + r * g.w + colOff;
                        if (g.sw == 1) {
                            System.arraycopy(x, src + j0, col, at + j0, j1 - j0);
                        } else {
                            for (int j = j0; j < j1; j++) {
                                col[at + j] = x[src + j * g.sw];
                            }
                        }
                        Arrays.fill(col, at + j1, at + g.ow, 0f);
                    }
                }
            }
        }
    }

    /** {@link #col2im} on the heap. */
    static void col2imRows(Geo g, float[] col, int ld, int c0, float[] img) {
        for (int c = 0; c < g.cinG(); c++) {
            int plane = c * g.h * g.w;
            for (int p = 0; p < g.kh; p++) {
                for (int q = 0; q < g.kw; q++) {
                    int row = ((c * g.kh + p) * g.kw + q) * ld + c0;
                    int colOff = q * g.dw - g.pl;
                    int j0 = colOff >= 0 ? 0 : Math.min(g.ow, (-colOff + g.sw - 1) / g.sw);
                    int j1 = Math.max(j0, Math.min(g.ow, g.w - colOff <= 0 ? 0 : (g.w - colOff - 1) / g.sw + 1));
                    for (int i = 0; i < g.oh; i++) {
                        int r = i * g.sh - g.pt + p * g.dh;
                        if (r < 0 || r >= g.h) {
                            continue;
                        }
                        int at = row + i * g.ow;
                        int dst = plane + r * g.w + colOff;
                        for (int j = j0; j < j1; j++) {
                            img[dst + j * g.sw] += col[at + j];
                        }
                    }
                }
            }
        }
    }

    /** {@code seg[off..off+len) = 0} (runs are short: padding columns, or one output row). */
    private static void zero(MemorySegment seg, long off, int len) {
        for (int i = 0; i < len; i++) {
            seg.set(F, (off + i) << 2, 0f);
        }
    }

    /** The adjoint of {@link #im2col}: {@code img[c, r, s] += col[...]} over image-local channels of group gr. */
    static void col2im(Geo g, MemorySegment col, int ld, int c0, float[] img) {
        int m = g.m();
        for (int c = 0; c < g.cinG(); c++) {
            int plane = c * g.h * g.w;
            for (int p = 0; p < g.kh; p++) {
                for (int q = 0; q < g.kw; q++) {
                    long row = (long) ((c * g.kh + p) * g.kw + q) * ld + c0;
                    int colOff = q * g.dw - g.pl;
                    int j0 = colOff >= 0 ? 0 : Math.min(g.ow, (-colOff + g.sw - 1) / g.sw);
                    int j1 = Math.max(j0, Math.min(g.ow, g.w - colOff <= 0 ? 0 : (g.w - colOff - 1) / g.sw + 1));
                    for (int i = 0; i < g.oh; i++) {
                        int r = i * g.sh - g.pt + p * g.dh;
                        if (r < 0 || r >= g.h) {
                            continue;
                        }
                        long at = row + (long) i * g.ow;
                        int dst = plane + r * g.w + colOff;
                        if (g.sw == 1) {
                            addInto(col, at + j0, img, dst + j0, j1 - j0);
                        } else {
                            for (int j = j0; j < j1; j++) {
                                img[dst + j * g.sw] += col.get(F, (at + j) << 2);
                            }
                        }
                    }
                }
            }
        }
    }

    /** {@code dst[d..d+len) += src[s..s+len)} from native memory. */
    static void addInto(MemorySegment src, long s, float[] dst, int d, int len) {
        int i = 0;
        for (int bound = S.loopBound(len); i < bound; i += VL) {
            FloatVector.fromArray(S, dst, d + i).add(FloatVector.fromMemorySegment(S, src, (s + i) << 2, NO))
                    .intoArray(dst, d + i);
        }
        for (; i < len; i++) {
            dst[d + i] += src.get(F, (s + i) << 2);
        }
    }

    /** {@code dst[d..d+len) += src[s..s+len)}. */
    static void addInto(float[] src, int s, float[] dst, int d, int len) {
        int i = 0;
        for (int bound = S.loopBound(len); i < bound; i += VL) {
            FloatVector.fromArray(S, dst, d + i).add(FloatVector.fromArray(S, src, s + i)).intoArray(dst, d + i);
        }
        for (; i < len; i++) {
            dst[d + i] += src[s + i];
        }
    }

    // ---- direct path (one input channel per group, stride 1) --------------------------------

    /**
     * Copies input channel {@code ch} of image n into {@code img [padH, padW]} with the padding as
     * zeros: {@code img[r + padTop, s + padLeft] = x[n, ch, r, s]}, and zeros wherever a window reaches
     * past the input (right/bottom padding, and the vector overhang of the last output columns).
     */
    private static void padPlane(Geo g, Arg X, int n, int ch, float[] img) {
        int pw = g.padW();
        int ph = g.padH();
        Arrays.fill(img, 0, pw * ph, 0f);
        long plane = X.offset() + ((long) n * g.cin + ch) * g.h * g.w;
        for (int r = 0; r < g.h; r++) {
            int rr = r + g.pt;
            if (rr >= ph) {
                break;
            }
            // columns s with 0 <= s + padLeft < pw
            int s0 = 0;
            int s1 = Math.min(g.w, pw - g.pl);
            if (s1 > s0) {
                MemorySegment.copy(X.seg(), F, (plane + (long) r * g.w + s0) << 2, img, rr * pw + g.pl + s0, s1 - s0);
            }
        }
    }

    /** Tap offsets {@code off[p·kW + q] = p·dH·padW + q·dW} of the padded image. */
    private static int[] tapOffsets(Scratch s, Geo g) {
        int taps = g.kh * g.kw;
        if (s.off.length < taps) {
            s.off = new int[taps];
        }
        for (int p = 0; p < g.kh; p++) {
            for (int q = 0; q < g.kw; q++) {
                s.off[p * g.kw + q] = p * g.dh * g.padW() + q * g.dw;
            }
        }
        return s.off;
    }

    /**
     * {@code out[n, o, i, j] = bias[o] + Σ_{p,q} xpad[i + p·dH, j + q·dW] · w[o, 0, p, q]} for the
     * output channels of each input channel, one vector of an output row at a time ({@link #directRow}).
     * Rows are computed VL-wide into a scratch row and their first OW columns stored.
     */
    private static void directForward(Scratch s, Geo g, Arg X, Arg W, Arg B, Arg O, int n) {
        int pw = g.padW();
        int owV = (g.ow + VL - 1) / VL * VL;          // output row rounded up to vectors
        int taps = g.kh * g.kw;
        s.img(pw * g.padH() + 4 * owV + taps);
        float[] img = s.img;                           // [padH, padW], then rows [4, owV], then w [taps]
        int rowAt = pw * g.padH();
        int wkAt = rowAt + 4 * owV;
        int[] off = tapOffsets(s, g);
        for (int ch = 0; ch < g.cin; ch++) {
            padPlane(g, X, n, ch, img);
            for (int oc = 0; oc < g.coutG(); oc++) {
                int o = ch * g.coutG() + oc;        // groups == cin: group ch owns these outputs
                MemorySegment.copy(W.seg(), F, (W.offset() + (long) o * taps) << 2, img, wkAt, taps);
                float b = B == null ? 0f : B.seg().get(F, (B.offset() + o) << 2);
                long dst = O.offset() + ((long) n * g.cout + o) * g.m();
                int i = 0;
                for (; i + 4 <= g.oh; i += 4) {                 // four rows: four independent fma chains
                    for (int j = 0; j < owV; j += VL) {
                        directRow4(img, i * pw + j, pw, off, wkAt, taps, b, rowAt + j, owV);
                    }
                    for (int r = 0; r < 4; r++) {
                        MemorySegment.copy(img, rowAt + r * owV, O.seg(), F, (dst + (long) (i + r) * g.ow) << 2, g.ow);
                    }
                }
                for (; i < g.oh; i++) {
                    for (int j = 0; j < owV; j += VL) {
                        directRow(img, i * pw + j, off, wkAt, taps, b, rowAt + j);
                    }
                    MemorySegment.copy(img, rowAt, O.seg(), F, (dst + (long) i * g.ow) << 2, g.ow);
                }
            }
        }
    }

    /**
     * {@code img[dst .. dst+VL) = b + Σ_t img[base + off[t] .. +VL) · img[wk + t]}: one loop over the
     * taps with the accumulator in a register (a loop nest here made C2 box the vector).
     */
    private static void directRow(float[] img, int base, int[] off, int wk, int taps, float b, int dst) {
        FloatVector acc = FloatVector.broadcast(S, b);
        for (int t = 0; t < taps; t++) {
            acc = FloatVector.fromArray(S, img, base + off[t]).fma(FloatVector.broadcast(S, img[wk + t]), acc);
        }
        acc.intoArray(img, dst);
    }

    /** {@link #directRow} for four consecutive output rows ({@code base + r·pw}, stored at {@code dst + r·ld}). */
    private static void directRow4(float[] img, int base, int pw, int[] off, int wk, int taps, float b, int dst,
            int ld) {
        FloatVector a0 = FloatVector.broadcast(S, b);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int t = 0; t < taps; t++) {
            FloatVector w = FloatVector.broadcast(S, img[wk + t]);
            int at = base + off[t];
            a0 = FloatVector.fromArray(S, img, at).fma(w, a0);
            a1 = FloatVector.fromArray(S, img, at + pw).fma(w, a1);
            a2 = FloatVector.fromArray(S, img, at + 2 * pw).fma(w, a2);
            a3 = FloatVector.fromArray(S, img, at + 3 * pw).fma(w, a3);
        }
        a0.intoArray(img, dst);
        a1.intoArray(img, dst + ld);
        a2.intoArray(img, dst + 2 * ld);
        a3.intoArray(img, dst + 3 * ld);
    }

    /** Scalar form of {@link #directRow}, the definition it must match. */
    static void directRowScalar(float[] img, int base, int[] off, int wk, int taps, float b, int dst) {
        for (int l = 0; l < VL; l++) {
            float acc = b;
            for (int t = 0; t < taps; t++) {
                acc = Math.fma(img[base + off[t] + l], img[wk + t], acc);
            }
            img[dst + l] = acc;
        }
    }

    /**
     * {@code dw[o, 0, p, q] += Σ_{i,j} dy[n, o, i, j] · xpad[i + p·dH, j + q·dW]} for image n into
     * {@code part [C_out·kH·kW]}; dy rows are read VL-wide from a zero-padded copy so the overhang
     * adds nothing, and each tap keeps a VL-wide partial sum in {@code acc [taps, VL]} ({@link #filterRow}).
     */
    private static void directFilter(Scratch s, Geo g, Arg X, Arg DY, int n, float[] part) {
        int pw = g.padW();
        int owV = (g.ow + VL - 1) / VL * VL;
        int taps = g.kh * g.kw;
        int dypAt = pw * g.padH();
        int accAt = dypAt + owV * g.oh;
        s.img(accAt + taps * VL);
        float[] img = s.img;                            // [padH, padW], dy [OH, owV] zero past OW, acc [taps, VL]
        int[] off = tapOffsets(s, g);
        for (int ch = 0; ch < g.cin; ch++) {
            padPlane(g, X, n, ch, img);
            for (int oc = 0; oc < g.coutG(); oc++) {
                int o = ch * g.coutG() + oc;
                long src = DY.offset() + ((long) n * g.cout + o) * g.m();
                for (int i = 0; i < g.oh; i++) {
                    MemorySegment.copy(DY.seg(), F, (src + (long) i * g.ow) << 2, img, dypAt + i * owV, g.ow);
                    Arrays.fill(img, dypAt + i * owV + g.ow, dypAt + (i + 1) * owV, 0f);
                }
                Arrays.fill(img, accAt, accAt + taps * VL, 0f);
                for (int i = 0; i < g.oh; i++) {
                    for (int j = 0; j < owV; j += VL) {
                        filterRow(img, dypAt + i * owV + j, i * pw + j, off, accAt, taps);
                    }
                }
                for (int t = 0; t < taps; t++) {
                    float sum = 0;
                    for (int l = 0; l < VL; l++) {
                        sum += img[accAt + t * VL + l];
                    }
                    part[o * taps + t] += sum;
                }
            }
        }
    }

    /** {@code acc[t, 0..VL) += img[dy .. dy+VL) · img[base + off[t] .. +VL)} for every tap t. */
    private static void filterRow(float[] img, int dy, int base, int[] off, int acc, int taps) {
        FloatVector d = FloatVector.fromArray(S, img, dy);
        for (int t = 0; t < taps; t++) {
            int a = acc + t * VL;
            d.fma(FloatVector.fromArray(S, img, base + off[t]), FloatVector.fromArray(S, img, a)).intoArray(img, a);
        }
    }

    // ---- backward data -----------------------------------------------------------------------

    void conv2dBackwardData(View dy, View w, View dx, Conv2dParams p) {
        long[] os = p.outputShape("conv2dBackwardData", dx.shape(), w.shape());
        requireShape("conv2dBackwardData", "dy", dy, os);
        Geo g = Geo.of(dx.shape(), w.shape(), os, p);
        Arg DY = Arg.of(dy);
        Arg W = Arg.of(w);
        Arg DX = Arg.of(dx);
        int chunks = chunks(g.n, 2L * g.cout * g.m() * g.k());
        par.run(chunks, c -> {
            Scratch s = take();
            try {
                int end = g.n * (c + 1) / chunks;
                for (int n = g.n * c / chunks; n < end; n += g.batch()) {
                    int nb = Math.min(g.batch(), end - n);
                    if (g.pointwise()) {
                        backwardDataImage(s, g, DY, W, DX, n);
                    } else {
                        backwardDataBatch(s, g, DY, W, DX, n, nb);
                    }
                }
            } finally {
                pool.offer(s);
            }
        });
    }

    private void backwardDataImage(Scratch s, Geo g, Arg DY, Arg W, Arg DX, int n) {
        int m = g.m();
        int k = g.k();
        int hw = g.h * g.w;
        for (int gr = 0; gr < g.groups; gr++) {
            long dy0 = DY.offset() + ((long) n * g.cout + (long) gr * g.coutG()) * m;
            long dx0 = DX.offset() + ((long) n * g.cin + (long) gr * g.cinG()) * hw;
            Mat wt = new Mat(W.seg(), W.offset() + (long) gr * g.coutG() * k, 1, k); // W_gᵀ [k, C_out/G]
            Mat dyg = new Mat(DY.seg(), dy0, m, 1);                                   // [C_out/G, OH·OW]
            sgemm.gemm(k, m, g.coutG(), wt, dyg, new Mat(DX.seg(), dx0, m, 1)); // pointwise: dx_g = W_gᵀ · dy_g
        }
    }

    /** Images {@code n0 .. n0+nb}: {@code dcol [k, nb·OH·OW] = W_gᵀ · dyb}, then col2im per image. */
    private void backwardDataBatch(Scratch s, Geo g, Arg DY, Arg W, Arg DX, int n0, int nb) {
        int m = g.m();
        int k = g.k();
        int hw = g.h * g.w;
        int ld = nb * m;
        s.dyb((long) g.coutG() * ld);
        s.col((long) k * ld);
        s.img(g.cinG() * hw);
        for (int gr = 0; gr < g.groups; gr++) {
            gatherDy(g, DY, n0, nb, gr, s.dyb);
            sgemm.gemm(k, ld, g.coutG(), new Mat(W.seg(), W.offset() + (long) gr * g.coutG() * k, 1, k),
                    new Mat(s.dyb, 0, ld, 1), new Mat(s.col, 0, ld, 1));
            boolean rows = g.ow < SHORT_ROW;
            if (rows) {
                s.colA(k * ld);
                MemorySegment.copy(s.col, F, 0, s.colA, 0, k * ld);
            }
            for (int b = 0; b < nb; b++) {
                Arrays.fill(s.img, 0, g.cinG() * hw, 0f);
                if (rows) {
                    col2imRows(g, s.colA, ld, b * m, s.img);
                } else {
                    col2im(g, s.col, ld, b * m, s.img);
                }
                long dx0 = DX.offset() + ((long) (n0 + b) * g.cin + (long) gr * g.cinG()) * hw;
                MemorySegment.copy(s.img, 0, DX.seg(), F, dx0 << 2, g.cinG() * hw);
            }
        }
    }

    // ---- backward filter ---------------------------------------------------------------------

    void conv2dBackwardFilter(View x, View dy, View dw, View dBias, Conv2dParams p) {
        long[] os = p.outputShape("conv2dBackwardFilter", x.shape(), dw.shape());
        requireShape("conv2dBackwardFilter", "dy", dy, os);
        if (dBias != null) {
            requireShape("conv2dBackwardFilter", "dBias", dBias, dw.shape()[0]);
        }
        Geo g = Geo.of(x.shape(), dw.shape(), os, p);
        Arg X = Arg.of(x);
        Arg DY = Arg.of(dy);
        Arg DW = Arg.of(dw);
        int wn = g.cout * g.k();                       // dw [C_out, C_in/G, kH, kW]
        int chunks = chunks(g.n, 2L * g.cout * g.m() * g.k());
        float[][] parts = new float[chunks][];         // per chunk: dw then dBias
        par.run(chunks, c -> {
            Scratch s = take();
            float[] part = new float[wn + g.cout];
            try {
                int end = g.n * (c + 1) / chunks;
                for (int n = g.n * c / chunks; n < end; n += g.batch()) {
                    int nb = Math.min(g.batch(), end - n);
                    if (g.direct() || g.pointwise()) {
                        filterImage(s, g, X, DY, n, part, wn);
                    } else {
                        filterBatch(s, g, X, DY, n, nb, part, wn);
                    }
                }
            } finally {
                pool.offer(s);
            }
            parts[c] = part;
        });
        float[] sum = parts[0];
        for (int c = 1; c < chunks; c++) {
            addInto(parts[c], 0, sum, 0, wn + g.cout);
        }
        MemorySegment.copy(sum, 0, DW.seg(), F, DW.offset() << 2, wn);
        if (dBias != null) {
            Arg DB = Arg.of(dBias);
            MemorySegment.copy(sum, wn, DB.seg(), F, DB.offset() << 2, g.cout);
        }
    }

    private void filterImage(Scratch s, Geo g, Arg X, Arg DY, int n, float[] part, int wn) {
        int m = g.m();
        int k = g.k();
        // dBias[o] += Σ_{i,j} dy[n, o, i, j]
        for (int o = 0; o < g.cout; o++) {
            part[wn + o] += sum(DY.seg(), DY.offset() + ((long) n * g.cout + o) * m, m);
        }
        if (g.direct()) {
            directFilter(s, g, X, DY, n, part);
            return;
        }
        s.tmp(g.coutG() * k);
        for (int gr = 0; gr < g.groups; gr++) {
            Mat col = new Mat(X.seg(), X.offset() + ((long) n * g.cin + (long) gr * g.cinG()) * m, 1, m); // xᵀ
            Mat dyg = new Mat(DY.seg(), DY.offset() + ((long) n * g.cout + (long) gr * g.coutG()) * m, m, 1);
            // tmp [C_out/G, k] = dy_g [C_out/G, OH·OW] · colᵀ
            sgemm.gemm(g.coutG(), k, m, dyg, col, new Mat(s.tmp, 0, k, 1));
            addInto(s.tmp, 0, part, gr * g.coutG() * k, g.coutG() * k);
        }
    }

    /** Images {@code n0 .. n0+nb}: {@code dW_g += dyb [C_out/G, nb·OH·OW] · colᵀ}, and the bias sums. */
    private void filterBatch(Scratch s, Geo g, Arg X, Arg DY, int n0, int nb, float[] part, int wn) {
        int m = g.m();
        int k = g.k();
        int ld = nb * m;
        for (int b = 0; b < nb; b++) {
            for (int o = 0; o < g.cout; o++) {
                part[wn + o] += sum(DY.seg(), DY.offset() + ((long) (n0 + b) * g.cout + o) * m, m);
            }
        }
        s.col((long) k * ld);
        s.dyb((long) g.coutG() * ld);
        s.tmp((long) g.coutG() * k);
        for (int gr = 0; gr < g.groups; gr++) {
            im2colBatch(s, g, X, n0, nb, gr);
            gatherDy(g, DY, n0, nb, gr, s.dyb);
            // tmp [C_out/G, k] = dyb [C_out/G, nb·OH·OW] · colᵀ [nb·OH·OW, k]
            sgemm.gemm(g.coutG(), k, ld, new Mat(s.dyb, 0, ld, 1), new Mat(s.col, 0, 1, ld), new Mat(s.tmp, 0, k, 1));
            addInto(s.tmp, 0, part, gr * g.coutG() * k, g.coutG() * k);
        }
    }

    /** {@code Σ seg[off..off+len)}. */
    private static float sum(MemorySegment seg, long off, int len) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(len); i < bound; i += VL) {
            acc = acc.add(FloatVector.fromMemorySegment(S, seg, (off + i) << 2, NO));
        }
        float t = acc.reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) {
            t += seg.get(F, (off + i) << 2);
        }
        return t;
    }
}
