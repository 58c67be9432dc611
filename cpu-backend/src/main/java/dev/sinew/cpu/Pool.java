package dev.sinew.cpu;

import static dev.sinew.cpu.Arg.F;

import dev.sinew.spi.FusedOps.Pool2dParams;
import dev.sinew.spi.View;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * FLOAT32 max and average pooling (NCHW, any kernel, stride, padding, dilation, ceil mode) and their
 * gradients on contiguous operands, threaded over {@code N·C} planes. Each plane is copied into a
 * per-chunk array in one bulk copy and worked on with int indices (element-wise segment reads with
 * long index arithmetic cost several times more); windows are clipped to the input once per output
 * row and column, and LeNet's 2×2 stride-2 windows have a path of their own. The loops are scalar:
 * a pooling window is a strided gather (2×2 stride 2 reads every other element).
 *
 * <p>Max pooling picks, as PyTorch's CPU kernel and the reference, the first position inside the
 * input, then moves on each value that is greater or NaN; the backward recomputes that position.
 *
 * <p>Stateless apart from the thread pool; thread-safe.
 */
final class Pool {
    private Pool() {
    }

    /** One plane's geometry: input h × w, output oh × ow. */
    private record Geo(int planes, int h, int w, int oh, int ow, Pool2dParams p) {
        static Geo of(long[] x, long[] o, Pool2dParams p) {
            return new Geo((int) (x[0] * x[1]), (int) x[2], (int) x[3], (int) o[2], (int) o[3], p);
        }

        /** First kernel row index whose input row {@code i·sH − padTop + r·dH} is ≥ 0. */
        int r0(int i) {
            int base = i * p.strideH() - p.padTop();
            return base >= 0 ? 0 : (-base + p.dilationH() - 1) / p.dilationH();
        }

        /** One past the last kernel row inside the input. */
        int r1(int i) {
            int base = i * p.strideH() - p.padTop();
            return h - base <= 0 ? 0 : Math.min(p.kernelH(), (h - base - 1) / p.dilationH() + 1);
        }

        int q0(int j) {
            int base = j * p.strideW() - p.padLeft();
            return base >= 0 ? 0 : (-base + p.dilationW() - 1) / p.dilationW();
        }

        int q1(int j) {
            int base = j * p.strideW() - p.padLeft();
            return w - base <= 0 ? 0 : Math.min(p.kernelW(), (w - base - 1) / p.dilationW() + 1);
        }
    }

    /** The plane loop of one op: {@code body(chunkBuffers, plane)} over chunks of planes. */
    @FunctionalInterface
    private interface PlaneBody {
        void run(float[] in, float[] out, int plane);
    }

    /** Runs {@code body} over every plane, with per-chunk buffers of one input and one output plane. */
    private static void planes(Parallel par, Geo g, PlaneBody body) {
        int chunks = par.chunks((long) g.planes * g.h * g.w, 1 << 15);
        par.run(chunks, c -> {
            float[] in = new float[g.h * g.w];
            float[] out = new float[g.oh * g.ow];
            for (int pl = g.planes * c / chunks; pl < g.planes * (c + 1) / chunks; pl++) {
                body.run(in, out, pl);
            }
        });
    }

    /** 2×2 windows, stride 2, no padding or dilation: LeNet's pooling, without window clipping. */
    private static boolean pairs(Pool2dParams p) {
        return p.kernelH() == 2 && p.kernelW() == 2 && p.strideH() == 2 && p.strideW() == 2 && p.padTop() == 0
                && p.padLeft() == 0 && p.dilationH() == 1 && p.dilationW() == 1;
    }

    /** Plane-local index of the window's maximum (first max, last NaN), or −1 for an empty window. */
    private static int argmax(float[] x, Geo g, int i, int j) {
        Pool2dParams p = g.p;
        int rb = i * p.strideH() - p.padTop();
        int cb = j * p.strideW() - p.padLeft();
        int r1 = g.r1(i);
        int q0 = g.q0(j);
        int q1 = g.q1(j);
        int best = -1;
        float max = Float.NEGATIVE_INFINITY;
        for (int r = g.r0(i); r < r1; r++) {
            int row = (rb + r * p.dilationH()) * g.w + cb;
            for (int q = q0; q < q1; q++) {
                int at = row + q * p.dilationW();
                float v = x[at];
                if (best < 0 || v > max || v != v) {
                    best = at;
                    max = v;
                }
            }
        }
        return best;
    }

    /** {@link #argmax} of the 2×2 window at (i, j) when {@link #pairs} holds (the window is inside the input). */
    private static int argmax2(float[] x, int w, int i, int j) {
        int a = 2 * i * w + 2 * j;
        int best = a;
        float max = x[a];
        float v = x[a + 1];
        if (v > max || v != v) {
            best = a + 1;
            max = v;
        }
        v = x[a + w];
        if (v > max || v != v) {
            best = a + w;
            max = v;
        }
        v = x[a + w + 1];
        if (v > max || v != v) {
            best = a + w + 1;
        }
        return best;
    }

    static void maxPool2d(Parallel par, View x, View out, Pool2dParams p) {
        long[] os = p.outputShape("maxPool2d", x.shape());
        Conv.requireShape("maxPool2d", "out", out, os);
        Geo g = Geo.of(x.shape(), os, p);
        Arg X = Arg.of(x);
        Arg O = Arg.of(out);
        int hw = g.h * g.w;
        int ohw = g.oh * g.ow;
        boolean pairs = pairs(p) && 2 * g.oh <= g.h && 2 * g.ow <= g.w;
        planes(par, g, (in, o, pl) -> {
            MemorySegment.copy(X.seg(), F, (X.offset() + (long) pl * hw) << 2, in, 0, hw);
            if (pairs) {
                // branch-free: Math.max propagates NaN as the reference's "greater or NaN" does (it
                // may return +0 where the reference keeps a first −0; they compare equal)
                for (int i = 0; i < g.oh; i++) {
                    int r0 = 2 * i * g.w;
                    int r1 = r0 + g.w;
                    for (int j = 0; j < g.ow; j++) {
                        int c = 2 * j;
                        o[i * g.ow + j] = Math.max(Math.max(in[r0 + c], in[r0 + c + 1]),
                                Math.max(in[r1 + c], in[r1 + c + 1]));
                    }
                }
            } else {
                for (int i = 0; i < g.oh; i++) {
                    for (int j = 0; j < g.ow; j++) {
                        int a = argmax(in, g, i, j);
                        o[i * g.ow + j] = a < 0 ? Float.NEGATIVE_INFINITY : in[a];
                    }
                }
            }
            MemorySegment.copy(o, 0, O.seg(), F, (O.offset() + (long) pl * ohw) << 2, ohw);
        });
    }

    static void maxPool2dBackward(Parallel par, View x, View y, View dy, View dx, Pool2dParams p) {
        long[] os = p.outputShape("maxPool2dBackward", x.shape());
        Conv.requireShape("maxPool2dBackward", "y", y, os);
        Conv.requireShape("maxPool2dBackward", "dy", dy, os);
        Conv.requireShape("maxPool2dBackward", "dx", dx, x.shape());
        Geo g = Geo.of(x.shape(), os, p);
        Arg X = Arg.of(x);
        Arg DY = Arg.of(dy);
        Arg DX = Arg.of(dx);
        int hw = g.h * g.w;
        int ohw = g.oh * g.ow;
        boolean pairs = pairs(p) && 2 * g.oh <= g.h && 2 * g.ow <= g.w;
        planes(par, g, (in, d, pl) -> {
            MemorySegment.copy(X.seg(), F, (X.offset() + (long) pl * hw) << 2, in, 0, hw);
            MemorySegment.copy(DY.seg(), F, (DY.offset() + (long) pl * ohw) << 2, d, 0, ohw);
            // in becomes dx once each window's position is known: windows are read before any
            // write only when they do not overlap, so collect the positions first
            int[] at = new int[0];
            if (!pairs) {
                at = new int[ohw];
                for (int i = 0; i < g.oh; i++) {
                    for (int j = 0; j < g.ow; j++) {
                        at[i * g.ow + j] = argmax(in, g, i, j);
                    }
                }
                Arrays.fill(in, 0f);
                for (int k = 0; k < ohw; k++) {
                    if (at[k] >= 0) {
                        in[at[k]] += d[k];
                    }
                }
            } else {
                // disjoint 2×2 windows: read the window, then overwrite it with its gradient. Branch-free
                // (random data makes "which one is largest" a coin toss per window): the first position
                // equal to the maximum takes dy, the others 0; a NaN window matches none and goes
                // the way of the reference (argmax2)
                for (int i = 0; i < g.oh; i++) {
                    for (int j = 0; j < g.ow; j++) {
                        int c0 = 2 * i * g.w + 2 * j;
                        int c2 = c0 + g.w;
                        float x0 = in[c0];
                        float x1 = in[c0 + 1];
                        float x2 = in[c2];
                        float x3 = in[c2 + 1];
                        float m = Math.max(Math.max(x0, x1), Math.max(x2, x3));
                        boolean e0 = x0 == m;
                        boolean e1 = x1 == m & !e0;
                        boolean e2 = x2 == m & !(e0 | e1);
                        boolean e3 = x3 == m & !(e0 | e1 | e2);
                        int gb = Float.floatToRawIntBits(d[i * g.ow + j]);
                        if (!(e0 | e1 | e2 | e3)) {
                            int a = argmax2(in, g.w, i, j);
                            in[c0] = 0f;
                            in[c0 + 1] = 0f;
                            in[c2] = 0f;
                            in[c2 + 1] = 0f;
                            in[a] = Float.intBitsToFloat(gb);
                            continue;
                        }
                        in[c0] = Float.intBitsToFloat(gb & -(e0 ? 1 : 0));
                        in[c0 + 1] = Float.intBitsToFloat(gb & -(e1 ? 1 : 0));
                        in[c2] = Float.intBitsToFloat(gb & -(e2 ? 1 : 0));
                        in[c2 + 1] = Float.intBitsToFloat(gb & -(e3 ? 1 : 0));
                    }
                }
                // rows and columns no window covers (odd sizes)
                for (int r = 2 * g.oh; r < g.h; r++) {
                    Arrays.fill(in, r * g.w, (r + 1) * g.w, 0f);
                }
                for (int r = 0; r < 2 * g.oh && 2 * g.ow < g.w; r++) {
                    Arrays.fill(in, r * g.w + 2 * g.ow, (r + 1) * g.w, 0f);
                }
            }
            MemorySegment.copy(in, 0, DX.seg(), F, (DX.offset() + (long) pl * hw) << 2, hw);
        });
    }

    static void avgPool2d(Parallel par, View x, View out, Pool2dParams p) {
        long[] os = p.outputShape("avgPool2d", x.shape());
        Conv.requireShape("avgPool2d", "out", out, os);
        Geo g = Geo.of(x.shape(), os, p);
        Arg X = Arg.of(x);
        Arg O = Arg.of(out);
        int hw = g.h * g.w;
        int ohw = g.oh * g.ow;
        planes(par, g, (in, o, pl) -> {
            MemorySegment.copy(X.seg(), F, (X.offset() + (long) pl * hw) << 2, in, 0, hw);
            for (int i = 0; i < g.oh; i++) {
                int rb = i * p.strideH() - p.padTop();
                int r1 = g.r1(i);
                for (int j = 0; j < g.ow; j++) {
                    int cb = j * p.strideW() - p.padLeft();
                    int q0 = g.q0(j);
                    int q1 = g.q1(j);
                    float acc = 0;
                    for (int r = g.r0(i); r < r1; r++) {
                        int row = (rb + r) * g.w + cb;
                        for (int q = q0; q < q1; q++) {
                            acc += in[row + q];
                        }
                    }
                    o[i * g.ow + j] = acc / p.divisor(i, j, g.h, g.w);
                }
            }
            MemorySegment.copy(o, 0, O.seg(), F, (O.offset() + (long) pl * ohw) << 2, ohw);
        });
    }

    static void avgPool2dBackward(Parallel par, View dy, View dx, Pool2dParams p) {
        long[] os = p.outputShape("avgPool2dBackward", dx.shape());
        Conv.requireShape("avgPool2dBackward", "dy", dy, os);
        Geo g = Geo.of(dx.shape(), os, p);
        Arg DY = Arg.of(dy);
        Arg DX = Arg.of(dx);
        int hw = g.h * g.w;
        int ohw = g.oh * g.ow;
        planes(par, g, (in, d, pl) -> {
            MemorySegment.copy(DY.seg(), F, (DY.offset() + (long) pl * ohw) << 2, d, 0, ohw);
            Arrays.fill(in, 0f);
            for (int i = 0; i < g.oh; i++) {
                int rb = i * p.strideH() - p.padTop();
                int r1 = g.r1(i);
                for (int j = 0; j < g.ow; j++) {
                    int cb = j * p.strideW() - p.padLeft();
                    int q0 = g.q0(j);
                    int q1 = g.q1(j);
                    float v = d[i * g.ow + j] / p.divisor(i, j, g.h, g.w);
                    for (int r = g.r0(i); r < r1; r++) {
                        int row = (rb + r) * g.w + cb;
                        for (int q = q0; q < q1; q++) {
                            in[row + q] += v;
                        }
                    }
                }
            }
            MemorySegment.copy(in, 0, DX.seg(), F, (DX.offset() + (long) pl * hw) << 2, hw);
        });
    }
}
