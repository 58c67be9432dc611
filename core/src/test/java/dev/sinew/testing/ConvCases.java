package dev.sinew.testing;

import dev.sinew.spi.FusedOps.Conv2dParams;
import dev.sinew.spi.FusedOps.Pool2dParams;
import java.util.List;

/**
 * The convolution and pooling geometries the SPI-level tests run (the conformance suite and the
 * composed-default tests): strides 1–3, symmetric and asymmetric padding per side, dilation, groups
 * (1, 2, depthwise), 1×1 to 7×7 kernels, ceil mode with windows hanging past the padded input,
 * batch 1 and more. Immutable.
 */
public final class ConvCases {
    private ConvCases() {
    }

    /** A convolution: input {@code [n, cin, h, w]}, weight {@code [cout, cin/groups, kh, kw]}. */
    public record Conv(String name, long n, long cin, long cout, long h, long w, int kh, int kw, Conv2dParams p,
            boolean bias) {
        public long[] x() {
            return new long[] {n, cin, h, w};
        }

        public long[] weight() {
            return new long[] {cout, cin / p.groups(), kh, kw};
        }

        public long[] out() {
            return p.outputShape("conv2d", x(), weight());
        }

        /** Terms in one output sum. */
        public long forwardTerms() {
            return cin / p.groups() * kh * kw;
        }

        @Override
        public String toString() {
            return name + " x" + java.util.Arrays.toString(x()) + " w" + java.util.Arrays.toString(weight()) + " " + p;
        }
    }

    /** A pooling window over input {@code [n, c, h, w]}. */
    public record Pool(String name, long n, long c, long h, long w, Pool2dParams p) {
        public long[] x() {
            return new long[] {n, c, h, w};
        }

        public long[] out() {
            return p.outputShape("pool2d", x());
        }

        @Override
        public String toString() {
            return name + " x" + java.util.Arrays.toString(x()) + " " + p;
        }
    }

    private static Conv2dParams cp(int s, int pad, int d, int g) {
        return Conv2dParams.of(s, s, pad, pad, d, d, g);
    }

    public static final List<Conv> CONV = List.of(
            new Conv("1x1 single", 1, 1, 1, 1, 1, 1, 1, cp(1, 0, 1, 1), true),
            new Conv("k3", 2, 3, 4, 7, 6, 3, 3, cp(1, 0, 1, 1), true),
            new Conv("k3 pad1", 2, 3, 5, 8, 8, 3, 3, cp(1, 1, 1, 1), true),
            new Conv("k3 stride2 pad1", 3, 2, 4, 9, 8, 3, 3, cp(2, 1, 1, 1), false),
            new Conv("k3 stride3 pad2", 1, 3, 2, 10, 11, 3, 3, cp(3, 2, 1, 1), true),
            new Conv("k5 pad2 lenet", 2, 1, 6, 12, 12, 5, 5, cp(1, 2, 1, 1), true),
            new Conv("k5 6->16", 2, 6, 16, 9, 9, 5, 5, cp(1, 0, 1, 1), true),
            new Conv("dilation2", 2, 2, 3, 9, 10, 3, 3, cp(1, 1, 2, 1), true),
            new Conv("dilation2 stride2 pad3", 1, 2, 2, 11, 9, 3, 3, cp(2, 3, 2, 1), true),
            new Conv("groups2", 2, 4, 6, 7, 7, 3, 3, cp(1, 1, 1, 2), true),
            new Conv("depthwise", 2, 5, 5, 8, 7, 3, 3, cp(1, 1, 1, 5), true),
            new Conv("depthwise x2 stride2", 1, 3, 6, 9, 9, 5, 5, cp(2, 2, 1, 3), false),
            new Conv("1x1 stride2", 2, 4, 8, 6, 7, 1, 1, cp(2, 0, 1, 1), true),
            new Conv("1x1 groups2", 1, 4, 6, 5, 5, 1, 1, cp(1, 0, 1, 2), true),
            new Conv("k7 stride2 pad3", 1, 2, 3, 13, 12, 7, 7, cp(2, 3, 1, 1), true),
            new Conv("rect kernel", 2, 2, 3, 7, 9, 2, 5, Conv2dParams.of(1, 2, 1, 2, 1, 1, 1), true),
            new Conv("asymmetric pad", 2, 2, 3, 6, 7, 3, 3, new Conv2dParams(1, 1, 0, 2, 1, 3, 1, 1, 1), true),
            new Conv("same even kernel", 1, 3, 2, 6, 6, 4, 4, new Conv2dParams(1, 1, 1, 2, 1, 2, 1, 1, 1), true),
            new Conv("asym pad stride dil groups", 3, 4, 2, 9, 8, 3, 2, new Conv2dParams(2, 1, 3, 1, 0, 2, 2, 1, 2),
                    true),
            new Conv("input equals kernel", 2, 2, 3, 3, 3, 3, 3, cp(1, 0, 1, 1), true),
            new Conv("h1 row", 1, 2, 2, 1, 9, 1, 3, Conv2dParams.of(1, 1, 0, 1, 1, 1, 1), true),
            new Conv("leftover rows", 2, 2, 2, 8, 9, 3, 3, cp(3, 0, 1, 1), true));

    private static Pool2dParams pp(int k, int s, int pad, int d, boolean ceil, boolean incl) {
        return Pool2dParams.of(k, k, s, s, pad, pad, d, d, ceil, incl);
    }

    public static final List<Pool> MAX = List.of(
            new Pool("k2", 2, 3, 8, 8, pp(2, 2, 0, 1, false, true)),
            new Pool("k3 s2 p1", 2, 2, 9, 9, pp(3, 2, 1, 1, false, true)),
            new Pool("k3 s1 p1 d2", 1, 2, 8, 7, pp(3, 1, 1, 2, false, true)),
            new Pool("k3 s2 ceil", 1, 2, 8, 8, pp(3, 2, 0, 1, true, true)),
            new Pool("k2 ceil odd", 2, 2, 7, 7, pp(2, 2, 0, 1, true, true)),
            new Pool("k3 s3 p1 ceil", 1, 3, 10, 11, pp(3, 3, 1, 1, true, true)),
            new Pool("rect", 2, 2, 7, 9, Pool2dParams.of(2, 3, 1, 2, 1, 1, 1, 1, false, true)),
            new Pool("asymmetric pad", 1, 2, 6, 7, new Pool2dParams(3, 3, 2, 2, 0, 2, 1, 0, 1, 1, false, true)),
            new Pool("d2 ceil", 1, 2, 9, 10, Pool2dParams.of(2, 3, 2, 2, 1, 1, 2, 2, true, true)),
            new Pool("leftover rows", 2, 2, 8, 9, pp(3, 3, 0, 1, false, true)));

    public static final List<Pool> AVG = List.of(
            new Pool("k2", 2, 3, 8, 8, pp(2, 2, 0, 1, false, true)),
            new Pool("k3 s2 p1 incl", 2, 2, 9, 9, pp(3, 2, 1, 1, false, true)),
            new Pool("k3 s2 p1 excl", 2, 2, 9, 9, pp(3, 2, 1, 1, false, false)),
            new Pool("k3 s2 p1 ceil incl", 1, 2, 8, 8, pp(3, 2, 1, 1, true, true)),
            new Pool("k3 s2 p1 ceil excl", 1, 2, 8, 8, pp(3, 2, 1, 1, true, false)),
            new Pool("k3 s3 p1 ceil excl", 1, 2, 10, 11, pp(3, 3, 1, 1, true, false)),
            new Pool("k2 ceil odd", 2, 2, 7, 7, pp(2, 2, 0, 1, true, true)),
            new Pool("rect", 1, 3, 7, 9, Pool2dParams.of(2, 3, 1, 2, 1, 1, 1, 1, false, true)),
            new Pool("asymmetric pad excl", 1, 2, 6, 7, new Pool2dParams(3, 3, 2, 2, 0, 2, 1, 0, 1, 1, true, false)),
            new Pool("global", 2, 3, 5, 6, Pool2dParams.of(5, 6, 5, 6, 0, 0, 1, 1, false, true)));
}
