package dev.sinew.reference;

import dev.sinew.DType;
import dev.sinew.spi.FusedOps.Conv2dParams;
import dev.sinew.spi.FusedOps.Pool2dParams;
import dev.sinew.spi.HostStorage;
import dev.sinew.spi.View;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The reference definitions of convolution and pooling, NCHW, as plain nested loops that read the
 * formulas of {@link dev.sinew.spi.FusedOps} (and PyTorch's CPU kernels) literally: every output
 * element is a double sum over its window, rounded once when stored. These, not the composed
 * defaults, are what the reference backend runs, so the conformance suite compares every backend
 * with loops simple enough to check by eye; the composed defaults are tested against these.
 *
 * <p>Gradients that scatter (backward-data, pooling backward) accumulate into a double array the
 * size of dx and store it once. Inputs may be any views of host storage (stride 0 included); outputs
 * any non-overlapping views. Shapes are checked. Stateless and thread-safe.
 */
final class ReferenceConv {
    private ReferenceConv() {
    }

    /** A 4-D view's memory, read and written by logical index {@code (a, b, c, d)}. */
    private record T4(MemorySegment s, DType t, long off, long s0, long s1, long s2, long s3) {
        static T4 of(View v) {
            if (!(v.storage() instanceof HostStorage hs)) {
                throw new IllegalArgumentException("reference backend: " + v + " is not host memory");
            }
            long[] st = v.strides();
            return new T4(hs.segment(), v.dtype(), v.offset(), st[0], st[1], st[2], st[3]);
        }

        /** A 1-D view {@code [C]} addressed as {@code (0, c, 0, 0)}. */
        static T4 ofVector(View v) {
            if (!(v.storage() instanceof HostStorage hs)) {
                throw new IllegalArgumentException("reference backend: " + v + " is not host memory");
            }
            return new T4(hs.segment(), v.dtype(), v.offset(), 0, v.strides()[0], 0, 0);
        }

        double get(long a, long b, long c, long d) {
            return ReferenceBackend.get(s, t, off + a * s0 + b * s1 + c * s2 + d * s3);
        }

        void set(long a, long b, long c, long d, double v) {
            ReferenceBackend.set(s, t, off + a * s0 + b * s1 + c * s2 + d * s3, v);
        }
    }

    private static void requireShape(String op, String arg, View v, long... shape) {
        if (!Arrays.equals(v.shape(), shape)) {
            throw new IllegalArgumentException(op + ": " + arg + " has shape " + Arrays.toString(v.shape())
                    + ", expected " + Arrays.toString(shape));
        }
    }

    // ---- convolution -------------------------------------------------------------------------

    static void conv2d(View x, View w, View bias, View out, Conv2dParams p) {
        long[] os = p.outputShape("conv2d", x.shape(), w.shape());
        requireShape("conv2d", "out", out, os);
        if (bias != null) {
            requireShape("conv2d", "bias", bias, os[1]);
        }
        T4 X = T4.of(x);
        T4 W = T4.of(w);
        T4 B = bias == null ? null : T4.ofVector(bias);
        T4 O = T4.of(out);
        long n = os[0];
        long cout = os[1];
        long oh = os[2];
        long ow = os[3];
        long h = x.shape()[2];
        long wd = x.shape()[3];
        long cinG = w.shape()[1];
        long coutG = cout / p.groups();
        long kh = w.shape()[2];
        long kw = w.shape()[3];
        for (long b = 0; b < n; b++) {
            for (long o = 0; o < cout; o++) {
                long c0 = (o / coutG) * cinG;
                for (long i = 0; i < oh; i++) {
                    for (long j = 0; j < ow; j++) {
                        double acc = 0;
                        for (long c = 0; c < cinG; c++) {
                            for (long q = 0; q < kh; q++) {
                                long r = i * p.strideH() - p.padTop() + q * p.dilationH();
                                if (r < 0 || r >= h) {
                                    continue;
                                }
                                for (long e = 0; e < kw; e++) {
                                    long s = j * p.strideW() - p.padLeft() + e * p.dilationW();
                                    if (s >= 0 && s < wd) {
                                        acc += X.get(b, c0 + c, r, s) * W.get(o, c, q, e);
                                    }
                                }
                            }
                        }
                        if (B != null) {
                            acc += B.get(0, o, 0, 0);
                        }
                        O.set(b, o, i, j, acc);
                    }
                }
            }
        }
    }

    static void conv2dBackwardData(View dy, View w, View dx, Conv2dParams p) {
        long[] os = p.outputShape("conv2dBackwardData", dx.shape(), w.shape());
        requireShape("conv2dBackwardData", "dy", dy, os);
        T4 DY = T4.of(dy);
        T4 W = T4.of(w);
        long n = os[0];
        long cout = os[1];
        long oh = os[2];
        long ow = os[3];
        long cin = dx.shape()[1];
        long h = dx.shape()[2];
        long wd = dx.shape()[3];
        long cinG = w.shape()[1];
        long coutG = cout / p.groups();
        long kh = w.shape()[2];
        long kw = w.shape()[3];
        double[] acc = new double[Math.toIntExact(n * cin * h * wd)]; // [N, C_in, H, W]
        for (long b = 0; b < n; b++) {
            for (long o = 0; o < cout; o++) {
                long c0 = (o / coutG) * cinG;
                for (long i = 0; i < oh; i++) {
                    for (long j = 0; j < ow; j++) {
                        double g = DY.get(b, o, i, j);
                        for (long c = 0; c < cinG; c++) {
                            for (long q = 0; q < kh; q++) {
                                long r = i * p.strideH() - p.padTop() + q * p.dilationH();
                                if (r < 0 || r >= h) {
                                    continue;
                                }
                                for (long e = 0; e < kw; e++) {
                                    long s = j * p.strideW() - p.padLeft() + e * p.dilationW();
                                    if (s >= 0 && s < wd) {
                                        acc[(int) (((b * cin + c0 + c) * h + r) * wd + s)] += g * W.get(o, c, q, e);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        store(dx, acc);
    }

    static void conv2dBackwardFilter(View x, View dy, View dw, View dBias, Conv2dParams p) {
        long[] os = p.outputShape("conv2dBackwardFilter", x.shape(), dw.shape());
        requireShape("conv2dBackwardFilter", "dy", dy, os);
        if (dBias != null) {
            requireShape("conv2dBackwardFilter", "dBias", dBias, os[1]);
        }
        T4 X = T4.of(x);
        T4 DY = T4.of(dy);
        T4 DW = T4.of(dw);
        long n = os[0];
        long cout = os[1];
        long oh = os[2];
        long ow = os[3];
        long h = x.shape()[2];
        long wd = x.shape()[3];
        long cinG = dw.shape()[1];
        long coutG = cout / p.groups();
        long kh = dw.shape()[2];
        long kw = dw.shape()[3];
        for (long o = 0; o < cout; o++) {
            long c0 = (o / coutG) * cinG;
            for (long c = 0; c < cinG; c++) {
                for (long q = 0; q < kh; q++) {
                    for (long e = 0; e < kw; e++) {
                        double acc = 0;
                        for (long b = 0; b < n; b++) {
                            for (long i = 0; i < oh; i++) {
                                long r = i * p.strideH() - p.padTop() + q * p.dilationH();
                                if (r < 0 || r >= h) {
                                    continue;
                                }
                                for (long j = 0; j < ow; j++) {
                                    long s = j * p.strideW() - p.padLeft() + e * p.dilationW();
                                    if (s >= 0 && s < wd) {
                                        acc += DY.get(b, o, i, j) * X.get(b, c0 + c, r, s);
                                    }
                                }
                            }
                        }
                        DW.set(o, c, q, e, acc);
                    }
                }
            }
        }
        if (dBias != null) {
            T4 DB = T4.ofVector(dBias);
            for (long o = 0; o < cout; o++) {
                double acc = 0;
                for (long b = 0; b < n; b++) {
                    for (long i = 0; i < oh; i++) {
                        for (long j = 0; j < ow; j++) {
                            acc += DY.get(b, o, i, j);
                        }
                    }
                }
                DB.set(0, o, 0, 0, acc);
            }
        }
    }

    // ---- pooling -----------------------------------------------------------------------------

    /**
     * The flat index {@code r·W + s} of the maximum of window {@code (i, j)} of channel {@code (b, c)},
     * as PyTorch's CPU kernel picks it: start at the first position inside the input, then move on
     * each value that is greater or NaN (so the first maximum wins, and the last NaN). −1 when the
     * window holds no input position.
     */
    private static long argmax(T4 X, long b, long c, long i, long j, long h, long wd, Pool2dParams p) {
        long best = -1;
        double max = Double.NEGATIVE_INFINITY;
        for (long q = 0; q < p.kernelH(); q++) {
            long r = i * p.strideH() - p.padTop() + q * p.dilationH();
            if (r < 0 || r >= h) {
                continue;
            }
            for (long e = 0; e < p.kernelW(); e++) {
                long s = j * p.strideW() - p.padLeft() + e * p.dilationW();
                if (s < 0 || s >= wd) {
                    continue;
                }
                double v = X.get(b, c, r, s);
                if (best < 0 || v > max || Double.isNaN(v)) { // an equal value does not move the maximum
                    best = r * wd + s;
                    max = v;
                }
            }
        }
        return best;
    }

    static void maxPool2d(View x, View out, Pool2dParams p) {
        long[] os = p.outputShape("maxPool2d", x.shape());
        requireShape("maxPool2d", "out", out, os);
        T4 X = T4.of(x);
        T4 O = T4.of(out);
        long h = x.shape()[2];
        long wd = x.shape()[3];
        for (long b = 0; b < os[0]; b++) {
            for (long c = 0; c < os[1]; c++) {
                for (long i = 0; i < os[2]; i++) {
                    for (long j = 0; j < os[3]; j++) {
                        long a = argmax(X, b, c, i, j, h, wd, p);
                        O.set(b, c, i, j, a < 0 ? Double.NEGATIVE_INFINITY : X.get(b, c, a / wd, a % wd));
                    }
                }
            }
        }
    }

    static void maxPool2dBackward(View x, View y, View dy, View dx, Pool2dParams p) {
        long[] os = p.outputShape("maxPool2dBackward", x.shape());
        requireShape("maxPool2dBackward", "y", y, os);
        requireShape("maxPool2dBackward", "dy", dy, os);
        requireShape("maxPool2dBackward", "dx", dx, x.shape());
        T4 X = T4.of(x);
        T4 DY = T4.of(dy);
        long cs = x.shape()[1];
        long h = x.shape()[2];
        long wd = x.shape()[3];
        double[] acc = new double[Math.toIntExact(os[0] * cs * h * wd)];
        for (long b = 0; b < os[0]; b++) {
            for (long c = 0; c < cs; c++) {
                for (long i = 0; i < os[2]; i++) {
                    for (long j = 0; j < os[3]; j++) {
                        long a = argmax(X, b, c, i, j, h, wd, p);
                        if (a >= 0) {
                            acc[(int) ((b * cs + c) * h * wd + a)] += DY.get(b, c, i, j);
                        }
                    }
                }
            }
        }
        store(dx, acc);
    }

    private static void requireNoDilation(String op, Pool2dParams p) {
        if (p.dilationH() != 1 || p.dilationW() != 1) {
            throw new IllegalArgumentException(op + ": average pooling has no dilation, got (" + p.dilationH() + ", "
                    + p.dilationW() + ")");
        }
    }

    static void avgPool2d(View x, View out, Pool2dParams p) {
        long[] os = p.outputShape("avgPool2d", x.shape());
        requireShape("avgPool2d", "out", out, os);
        requireNoDilation("avgPool2d", p);
        T4 X = T4.of(x);
        T4 O = T4.of(out);
        long h = x.shape()[2];
        long wd = x.shape()[3];
        for (long b = 0; b < os[0]; b++) {
            for (long c = 0; c < os[1]; c++) {
                for (long i = 0; i < os[2]; i++) {
                    for (long j = 0; j < os[3]; j++) {
                        double acc = 0;
                        for (long q = 0; q < p.kernelH(); q++) {
                            long r = i * p.strideH() - p.padTop() + q;
                            for (long e = 0; e < p.kernelW(); e++) {
                                long s = j * p.strideW() - p.padLeft() + e;
                                if (r >= 0 && r < h && s >= 0 && s < wd) {
                                    acc += X.get(b, c, r, s);
                                }
                            }
                        }
                        O.set(b, c, i, j, acc / p.divisor(i, j, h, wd));
                    }
                }
            }
        }
    }

    static void avgPool2dBackward(View dy, View dx, Pool2dParams p) {
        long[] os = p.outputShape("avgPool2dBackward", dx.shape());
        requireShape("avgPool2dBackward", "dy", dy, os);
        requireNoDilation("avgPool2dBackward", p);
        T4 DY = T4.of(dy);
        long cs = dx.shape()[1];
        long h = dx.shape()[2];
        long wd = dx.shape()[3];
        double[] acc = new double[Math.toIntExact(os[0] * cs * h * wd)];
        for (long b = 0; b < os[0]; b++) {
            for (long c = 0; c < cs; c++) {
                for (long i = 0; i < os[2]; i++) {
                    for (long j = 0; j < os[3]; j++) {
                        double g = DY.get(b, c, i, j) / p.divisor(i, j, h, wd);
                        for (long q = 0; q < p.kernelH(); q++) {
                            long r = i * p.strideH() - p.padTop() + q;
                            for (long e = 0; e < p.kernelW(); e++) {
                                long s = j * p.strideW() - p.padLeft() + e;
                                if (r >= 0 && r < h && s >= 0 && s < wd) {
                                    acc[(int) (((b * cs + c) * h + r) * wd + s)] += g;
                                }
                            }
                        }
                    }
                }
            }
        }
        store(dx, acc);
    }

    /** Stores row-major values {@code acc} of dx's shape into the (possibly strided) view dx. */
    private static void store(View dx, double[] acc) {
        T4 D = T4.of(dx);
        long[] s = dx.shape();
        int k = 0;
        for (long a = 0; a < s[0]; a++) {
            for (long b = 0; b < s[1]; b++) {
                for (long c = 0; c < s[2]; c++) {
                    for (long d = 0; d < s[3]; d++) {
                        D.set(a, b, c, d, acc[k++]);
                    }
                }
            }
        }
    }
}
