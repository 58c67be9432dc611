package dev.sinew.spi;

import dev.sinew.DType;
import dev.sinew.spi.FusedOps.Conv2dParams;
import dev.sinew.spi.FusedOps.Pool2dParams;
import java.util.Arrays;

/**
 * Default implementations of the convolution and pooling {@link FusedOps}, composed only from a
 * backend's primitive ops (copy, fill, unary/binary, where, reduce, matmul). A backend that runs
 * nothing faster gets correct, if slow, convolutions from these.
 *
 * <p>The method, for every op: a convolution or pooling window at kernel offset {@code (p, q)} is a
 * strided <em>view</em> of the (padded) input, {@code [N, C, OH, OW]} with strides
 * {@code [sN, sC, strideH·sH, strideW·sW]}, so an op is a loop over the {@code kH·kW} offsets:
 * <ul>
 *   <li>conv2d: the window is copied channel-major into {@code col [C_in, N·OH·OW]}; one batched
 *       matmul over the groups, {@code w[:, :, p, q]} viewed {@code [G, C_out/G, C_in/G]} times col
 *       viewed {@code [G, C_in/G, N·OH·OW]}, is added into an accumulator {@code [C_out, N·OH·OW]},
 *       which is finally copied (permuted) into out and the bias added in place;</li>
 *   <li>backward-data: {@code w[:, :, p, q]ᵀ · dy} per offset, added in place into the window view
 *       of a zeroed (padded) dx;</li>
 *   <li>backward-filter: {@code dy [G, C_out/G, N·OH·OW] · colᵀ} per offset, written straight into
 *       the strided view {@code dw[:, :, p, q]}; the bias gradient is a SUM reduction of dy;</li>
 *   <li>pools: elementwise MAX (or ADD, then a divide by the per-position divisor) of the window
 *       views; the max-pool gradient goes to the first window position equal to the maximum,
 *       tracked with a "taken" mask, as the formula in {@link FusedOps#maxPool2dBackward} says.</li>
 * </ul>
 * Padding is a temporary frame filled with 0 (conv, average) or −∞ (max) with the input copied into
 * its interior; when there is no padding and no ceil-mode overhang the input is used directly.
 * In-place updates only ever pass an output that is exactly the same view as one input, which the
 * {@link Backend} contract allows for {@code binary}. Temporaries (about the size of the input plus
 * two outputs) come from the same backend and are released before each op returns, also on failure.
 * Stateless; thread safety is that of the backend.
 */
final class ComposedConv {
    private ComposedConv() {
    }

    // ---- convolution -------------------------------------------------------------------------

    static void conv2d(Backend b, View x, View w, View bias, View out, Conv2dParams p) {
        long[] os = p.outputShape("conv2d", x.shape(), w.shape());
        requireShape("conv2d", "out", out, os);
        long cout = w.shape()[0];
        if (bias != null) {
            requireShape("conv2d", "bias", bias, cout);
        }
        Geometry g = Geometry.conv(x.shape(), w.shape(), os, p);
        DType dt = out.dtype();
        try (Temps t = new Temps(b)) {
            View src = padded(b, t, x, g, 0.0);                          // [N, C_in, Hp, Wp]
            View col = t.tensor(dt, g.cin, g.n, g.oh, g.ow);              // [C_in, N, OH, OW]
            View acc = t.tensor(dt, cout, g.n, g.oh, g.ow);               // [C_out, N, OH, OW]
            View tmp = g.kh * g.kw > 1 ? t.tensor(dt, cout, g.n, g.oh, g.ow) : null;
            View colG = grouped(col, g.groups, g.cin / g.groups, g.m);    // [G, C_in/G, M]
            boolean first = true;
            for (int i = 0; i < g.kh; i++) {
                for (int j = 0; j < g.kw; j++) {
                    b.copy(channelMajor(window(src, g, i, j)), col);
                    View dst = first ? acc : tmp;
                    b.matmul(weightAt(w, g, i, j, false), colG, grouped(dst, g.groups, cout / g.groups, g.m));
                    if (!first) {
                        b.binary(BinaryOp.ADD, acc, tmp, acc);
                    }
                    first = false;
                }
            }
            // acc [C_out, N, OH, OW] seen as [N, C_out, OH, OW]
            long ohw = g.oh * g.ow;
            b.copy(acc.with(0, os, new long[] {ohw, g.n * ohw, g.ow, 1}), out);
            if (bias != null) {
                View bx = bias.with(bias.offset(), os, new long[] {0, bias.strides()[0], 0, 0});
                b.binary(BinaryOp.ADD, out, bx, out);
            }
        }
    }

    static void conv2dBackwardData(Backend b, View dy, View w, View dx, Conv2dParams p) {
        long[] os = p.outputShape("conv2dBackwardData", dx.shape(), w.shape());
        requireShape("conv2dBackwardData", "dy", dy, os);
        Geometry g = Geometry.conv(dx.shape(), w.shape(), os, p);
        DType dt = dx.dtype();
        long cout = w.shape()[0];
        try (Temps t = new Temps(b)) {
            View dyT = t.tensor(dt, cout, g.n, g.oh, g.ow);               // [C_out, N, OH, OW]
            b.copy(channelMajor(dy), dyT);
            View dyG = grouped(dyT, g.groups, cout / g.groups, g.m);     // [G, C_out/G, M]
            View tmp = t.tensor(dt, g.cin, g.n, g.oh, g.ow);              // [C_in, N, OH, OW]
            View tmpG = grouped(tmp, g.groups, g.cin / g.groups, g.m);
            View target = zeroTarget(b, t, dx, g);                        // [N, C_in, Hp, Wp]
            for (int i = 0; i < g.kh; i++) {
                for (int j = 0; j < g.kw; j++) {
                    b.matmul(weightAt(w, g, i, j, true), dyG, tmpG);
                    View win = channelMajor(window(target, g, i, j));    // [C_in, N, OH, OW]
                    b.binary(BinaryOp.ADD, win, tmp, win);
                }
            }
            finishTarget(b, target, dx, g);
        }
    }

    static void conv2dBackwardFilter(Backend b, View x, View dy, View dw, View dBias, Conv2dParams p) {
        long[] os = p.outputShape("conv2dBackwardFilter", x.shape(), dw.shape());
        requireShape("conv2dBackwardFilter", "dy", dy, os);
        long cout = dw.shape()[0];
        if (dBias != null) {
            requireShape("conv2dBackwardFilter", "dBias", dBias, cout);
        }
        Geometry g = Geometry.conv(x.shape(), dw.shape(), os, p);
        DType dt = dw.dtype();
        try (Temps t = new Temps(b)) {
            View dyT = t.tensor(dt, cout, g.n, g.oh, g.ow);               // [C_out, N, OH, OW]
            b.copy(channelMajor(dy), dyT);
            View dyG = grouped(dyT, g.groups, cout / g.groups, g.m);     // [G, C_out/G, M]
            View src = padded(b, t, x, g, 0.0);
            View col = t.tensor(dt, g.cin, g.n, g.oh, g.ow);              // [C_in, N, OH, OW]
            long cinG = g.cin / g.groups;
            View colT = col.with(0, new long[] {g.groups, g.m, cinG}, new long[] {cinG * g.m, 1, g.m}); // [G, M, C_in/G]
            for (int i = 0; i < g.kh; i++) {
                for (int j = 0; j < g.kw; j++) {
                    b.copy(channelMajor(window(src, g, i, j)), col);
                    b.matmul(dyG, colT, weightAt(dw, g, i, j, false));
                }
            }
            if (dBias != null) {
                b.reduce(ReduceOp.SUM, dy, dBias.with(dBias.offset(), new long[] {1, cout, 1, 1},
                        new long[] {0, dBias.strides()[0], 0, 0}));
            }
        }
    }

    // ---- pooling -----------------------------------------------------------------------------

    static void maxPool2d(Backend b, View x, View out, Pool2dParams p) {
        long[] os = p.outputShape("maxPool2d", x.shape());
        requireShape("maxPool2d", "out", out, os);
        Geometry g = Geometry.pool(x.shape(), os, p);
        try (Temps t = new Temps(b)) {
            View src = padded(b, t, x, g, Double.NEGATIVE_INFINITY);
            for (int i = 0; i < g.kh; i++) {
                for (int j = 0; j < g.kw; j++) {
                    View win = window(src, g, i, j);
                    if (i == 0 && j == 0) {
                        b.copy(win, out);
                    } else {
                        b.binary(BinaryOp.MAX, out, win, out);
                    }
                }
            }
        }
    }

    static void maxPool2dBackward(Backend b, View x, View y, View dy, View dx, Pool2dParams p) {
        long[] os = p.outputShape("maxPool2dBackward", x.shape());
        requireShape("maxPool2dBackward", "y", y, os);
        requireShape("maxPool2dBackward", "dy", dy, os);
        requireShape("maxPool2dBackward", "dx", dx, x.shape());
        Geometry g = Geometry.pool(x.shape(), os, p);
        DType dt = dx.dtype();
        try (Temps t = new Temps(b)) {
            View src = padded(b, t, x, g, Double.NEGATIVE_INFINITY);
            View target = zeroTarget(b, t, dx, g);
            View taken = t.tensor(dt, os);                // 1 once a window's maximum has been assigned
            b.fill(taken, 0);
            View eq = t.tensor(dt, os);
            View hit = t.tensor(dt, os);
            View contrib = t.tensor(dt, os);
            View zero = t.scalar(dt, 0.0, os);
            for (int i = 0; i < g.kh; i++) {
                for (int j = 0; j < g.kw; j++) {
                    b.binary(BinaryOp.EQ, window(src, g, i, j), y, eq);
                    b.where(taken, zero, eq, hit);        // first position equal to the maximum
                    b.binary(BinaryOp.ADD, taken, hit, taken);
                    b.binary(BinaryOp.MUL, dy, hit, contrib);
                    View win = window(target, g, i, j);
                    b.binary(BinaryOp.ADD, win, contrib, win);
                }
            }
            finishTarget(b, target, dx, g);
        }
    }

    static void avgPool2d(Backend b, View x, View out, Pool2dParams p) {
        long[] os = p.outputShape("avgPool2d", x.shape());
        requireShape("avgPool2d", "out", out, os);
        requireNoDilation("avgPool2d", p);
        Geometry g = Geometry.pool(x.shape(), os, p);
        try (Temps t = new Temps(b)) {
            View src = padded(b, t, x, g, 0.0);
            for (int i = 0; i < g.kh; i++) {
                for (int j = 0; j < g.kw; j++) {
                    View win = window(src, g, i, j);
                    if (i == 0 && j == 0) {
                        b.copy(win, out);
                    } else {
                        b.binary(BinaryOp.ADD, out, win, out);
                    }
                }
            }
            b.binary(BinaryOp.DIV, out, divisors(b, t, out.dtype(), p, g, os), out);
        }
    }

    static void avgPool2dBackward(Backend b, View dy, View dx, Pool2dParams p) {
        long[] os = p.outputShape("avgPool2dBackward", dx.shape());
        requireShape("avgPool2dBackward", "dy", dy, os);
        requireNoDilation("avgPool2dBackward", p);
        Geometry g = Geometry.pool(dx.shape(), os, p);
        DType dt = dx.dtype();
        try (Temps t = new Temps(b)) {
            View share = t.tensor(dt, os);                // dy / divisor
            b.binary(BinaryOp.DIV, dy, divisors(b, t, dt, p, g, os), share);
            View target = zeroTarget(b, t, dx, g);
            for (int i = 0; i < g.kh; i++) {
                for (int j = 0; j < g.kw; j++) {
                    View win = window(target, g, i, j);
                    b.binary(BinaryOp.ADD, win, share, win);
                }
            }
            finishTarget(b, target, dx, g);
        }
    }

    private static void requireNoDilation(String op, Pool2dParams p) {
        if (p.dilationH() != 1 || p.dilationW() != 1) {
            throw new IllegalArgumentException(op + ": average pooling has no dilation, got (" + p.dilationH() + ", "
                    + p.dilationW() + ")");
        }
    }

    /** The divisor of every output position, {@code [OH, OW]} broadcast to {@code [N, C, OH, OW]}. */
    private static View divisors(Backend b, Temps t, DType dt, Pool2dParams p, Geometry g, long[] os) {
        double[] d = new double[Math.toIntExact(g.oh * g.ow)];
        for (long i = 0; i < g.oh; i++) {
            for (long j = 0; j < g.ow; j++) {
                d[(int) (i * g.ow + j)] = p.divisor(i, j, g.h, g.w);
            }
        }
        View v = t.values(dt, d);
        return v.with(0, os, new long[] {0, 0, g.ow, 1});
    }

    // ---- geometry and views ------------------------------------------------------------------

    /**
     * The sizes of one op. {@code needH}/{@code needW} are the padded rows/columns the windows reach
     * ({@code (OH−1)·sH + (kH−1)·dH + 1}); the padded frame is {@code hp × wp}.
     */
    private record Geometry(long n, long cin, long h, long w, long oh, long ow, long m, int kh, int kw,
            int sh, int sw, int dh, int dw, int padTop, int padLeft, long hp, long wp, int groups) {

        static Geometry conv(long[] x, long[] wt, long[] out, Conv2dParams p) {
            return of(x, out, Math.toIntExact(wt[2]), Math.toIntExact(wt[3]), p.strideH(), p.strideW(),
                    p.dilationH(), p.dilationW(), p.padTop(), p.padLeft(), p.groups());
        }

        static Geometry pool(long[] x, long[] out, Pool2dParams p) {
            return of(x, out, p.kernelH(), p.kernelW(), p.strideH(), p.strideW(), p.dilationH(), p.dilationW(),
                    p.padTop(), p.padLeft(), 1);
        }

        private static Geometry of(long[] x, long[] out, int kh, int kw, int sh, int sw, int dh, int dw, int pt,
                int pl, int groups) {
            long oh = out[2];
            long ow = out[3];
            long needH = (oh - 1) * sh + (long) (kh - 1) * dh + 1;
            long needW = (ow - 1) * sw + (long) (kw - 1) * dw + 1;
            long hp = Math.max(pt + x[2], needH);
            long wp = Math.max(pl + x[3], needW);
            return new Geometry(x[0], x[1], x[2], x[3], oh, ow, x[0] * oh * ow, kh, kw, sh, sw, dh, dw, pt, pl, hp,
                    wp, groups);
        }

        /** Whether the windows stay inside the unpadded input, so no frame is needed. */
        boolean inside() {
            return padTop == 0 && padLeft == 0 && hp == h && wp == w;
        }
    }

    /**
     * {@code x} itself when the windows stay inside it, else a temporary frame {@code [N, C, Hp, Wp]}
     * filled with {@code pad} holding x in its interior.
     */
    private static View padded(Backend b, Temps t, View x, Geometry g, double pad) {
        if (g.inside()) {
            return x;
        }
        View frame = t.tensor(x.dtype(), g.n, g.cin, g.hp, g.wp);
        b.fill(frame, pad);
        b.copy(x, interior(frame, g));
        return frame;
    }

    /** A zeroed accumulation target for a gradient: dx itself when no frame is needed, else a frame. */
    private static View zeroTarget(Backend b, Temps t, View dx, Geometry g) {
        View target = g.inside() ? dx : t.tensor(dx.dtype(), g.n, g.cin, g.hp, g.wp);
        b.fill(target, 0);
        return target;
    }

    /** Copies a frame's interior into dx (nothing to do when dx was the target). */
    private static void finishTarget(Backend b, View target, View dx, Geometry g) {
        if (!g.inside()) {
            b.copy(interior(target, g), dx);
        }
    }

    /** The {@code [N, C, H, W]} interior of a contiguous frame. */
    private static View interior(View frame, Geometry g) {
        long[] s = frame.strides();
        return frame.with(frame.offset() + g.padTop * s[2] + g.padLeft * s[3], new long[] {g.n, g.cin, g.h, g.w},
                s.clone());
    }

    /** The window view {@code [N, C, OH, OW]} of kernel offset {@code (i, j)} in a frame (or the input). */
    private static View window(View src, Geometry g, int i, int j) {
        long[] s = src.strides();
        long off = src.offset() + (long) i * g.dh * s[2] + (long) j * g.dw * s[3];
        return src.with(off, new long[] {src.shape()[0], src.shape()[1], g.oh, g.ow},
                new long[] {s[0], s[1], g.sh * s[2], g.sw * s[3]});
    }

    /** {@code [N, C, a, b]} seen as {@code [C, N, a, b]}. */
    private static View channelMajor(View v) {
        long[] sh = v.shape();
        long[] st = v.strides();
        return v.with(v.offset(), new long[] {sh[1], sh[0], sh[2], sh[3]}, new long[] {st[1], st[0], st[2], st[3]});
    }

    /** A contiguous {@code [G·rows, M]} temporary seen as {@code [G, rows, M]}. */
    private static View grouped(View contiguous, int groups, long rows, long m) {
        return contiguous.with(contiguous.offset(), new long[] {groups, rows, m}, new long[] {rows * m, m, 1});
    }

    /**
     * {@code w[:, :, i, j]} of a weight {@code [C_out, C_in/G, kH, kW]} seen as
     * {@code [G, C_out/G, C_in/G]}, or transposed {@code [G, C_in/G, C_out/G]}.
     */
    private static View weightAt(View w, Geometry g, int i, int j, boolean transposed) {
        long[] s = w.strides();
        long coutG = w.shape()[0] / g.groups;
        long cinG = w.shape()[1];
        long off = w.offset() + i * s[2] + j * s[3];
        return transposed
                ? w.with(off, new long[] {g.groups, cinG, coutG}, new long[] {coutG * s[0], s[1], s[0]})
                : w.with(off, new long[] {g.groups, coutG, cinG}, new long[] {coutG * s[0], s[0], s[1]});
    }

    private static void requireShape(String op, String arg, View v, long... shape) {
        if (!Arrays.equals(v.shape(), shape)) {
            throw new IllegalArgumentException(op + ": " + arg + " has shape " + Arrays.toString(v.shape())
                    + ", expected " + Arrays.toString(shape));
        }
    }
}
