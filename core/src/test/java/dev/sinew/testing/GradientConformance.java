package dev.sinew.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sinew.DType;
import dev.sinew.Functional;
import dev.sinew.Functional.RnnOutput;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.nn.ClockworkRNN;
import dev.sinew.nn.MinimalGatedUnit;
import dev.sinew.nn.RnnOptions;
import dev.sinew.spi.FusedOps.RnnMode;
import dev.sinew.spi.FusedOps.RnnParams;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The float64 gradient check of every differentiable op, run on any backend: subclasses say which
 * backend with {@link #createSinew()}. Each case builds its inputs from a seeded generator, checks
 * with {@link GradCheck}, closes everything, and the suite asserts no buffer is left live.
 */
public abstract class GradientConformance {
    protected Sinew sn;

    /** The context under test; the suite closes it. */
    protected abstract Sinew createSinew();

    @BeforeEach
    void open() {
        sn = createSinew();
    }

    @AfterEach
    void closeAndCheckLeaks() {
        long live = sn.backend().liveBuffers();
        sn.close();
        assertEquals(0, live, "live buffers left after the test");
    }

    private record Case(String name, Function<List<Tensor>, Tensor> f, long[][] shapes, double lo, double hi) {
    }

    private static Case c(String name, Function<List<Tensor>, Tensor> f, long[]... shapes) {
        return new Case(name, f, shapes, -2, 2);
    }

    private static Case positive(String name, Function<List<Tensor>, Tensor> f, long[]... shapes) {
        return new Case(name, f, shapes, 0.5, 2);
    }

    private static long[] s(long... d) {
        return d;
    }

    private static List<Case> cases() {
        List<Case> cs = new ArrayList<>();
        cs.add(c("add", x -> x.get(0).add(x.get(1)), s(3, 4), s(3, 4)));
        cs.add(c("add broadcast row", x -> x.get(0).add(x.get(1)), s(3, 4), s(4)));
        cs.add(c("add broadcast column", x -> x.get(0).add(x.get(1)), s(3, 1), s(2, 3, 4)));
        cs.add(c("sub broadcast", x -> x.get(0).sub(x.get(1)), s(2, 1, 4), s(3, 1)));
        cs.add(c("mul", x -> x.get(0).mul(x.get(1)), s(5), s(5)));
        cs.add(c("mul broadcast", x -> x.get(0).mul(x.get(1)), s(2, 3), s(2, 1)));
        cs.add(c("mul same tensor", x -> x.get(0).mul(x.get(0)), s(6)));
        cs.add(new Case("div", x -> x.get(0).div(x.get(1)), new long[][] {s(2, 3), s(3)}, 0.5, 2));
        cs.add(c("maximum", x -> x.get(0).maximum(x.get(1)), s(4, 3), s(4, 3)));
        cs.add(c("minimum", x -> x.get(0).minimum(x.get(1)), s(4, 3), s(3)));
        cs.add(positive("pow tensor", x -> x.get(0).pow(x.get(1)), s(3, 2), s(3, 2)));
        cs.add(c("add scalar", x -> x.get(0).add(1.5), s(3)));
        cs.add(c("sub scalar", x -> x.get(0).sub(0.25), s(3)));
        cs.add(c("mul scalar", x -> x.get(0).mul(-3.0), s(3)));
        cs.add(c("div scalar", x -> x.get(0).div(4.0), s(3)));
        cs.add(positive("pow scalar", x -> x.get(0).pow(2.5), s(2, 3)));
        cs.add(c("neg", x -> x.get(0).neg(), s(7)));
        cs.add(c("exp", x -> x.get(0).exp(), s(2, 5)));
        cs.add(positive("log", x -> x.get(0).log(), s(2, 5)));
        cs.add(positive("sqrt", x -> x.get(0).sqrt(), s(2, 5)));
        cs.add(c("tanh", x -> x.get(0).tanh(), s(2, 5)));
        cs.add(c("sigmoid", x -> x.get(0).sigmoid(), s(2, 5)));
        cs.add(c("relu", x -> x.get(0).relu(), s(3, 5)));
        cs.add(c("abs", x -> x.get(0).abs(), s(3, 5)));
        cs.add(c("square", x -> x.get(0).square(), s(3, 5)));
        cs.add(c("clamp", x -> x.get(0).clamp(-0.7, 0.9), s(4, 5)));
        cs.add(c("where", x -> Tensor.where(x.get(0).gt(0.0), x.get(0), x.get(1).mul(2.0)), s(3, 4), s(4)));
        cs.add(c("sum all", x -> x.get(0).sum(), s(3, 4)));
        cs.add(c("sum axis", x -> x.get(0).sum(1, false), s(3, 4, 2)));
        cs.add(c("sum axes keepDim", x -> x.get(0).sum(new int[] {0, 2}, true), s(3, 4, 2)));
        cs.add(c("mean", x -> x.get(0).mean(), s(3, 4)));
        cs.add(c("mean axis", x -> x.get(0).mean(-1, false), s(3, 4)));
        cs.add(c("max axis", x -> x.get(0).max(1, false), s(3, 5)));
        cs.add(c("min axis keepDim", x -> x.get(0).min(0, true), s(3, 5)));
        cs.add(c("matmul 2d", x -> x.get(0).matmul(x.get(1)), s(3, 4), s(4, 5)));
        cs.add(c("matmul transposed operands", x -> x.get(0).t().matmul(x.get(1).t()), s(4, 3), s(5, 4)));
        cs.add(c("matmul batched", x -> x.get(0).matmul(x.get(1)), s(2, 3, 4), s(2, 4, 2)));
        cs.add(c("matmul batch broadcast", x -> x.get(0).matmul(x.get(1)), s(2, 3, 4), s(4, 2)));
        cs.add(c("matmul 4d broadcast", x -> x.get(0).matmul(x.get(1)), s(2, 1, 3, 4), s(3, 4, 2)));
        cs.add(c("matmul vector-matrix", x -> x.get(0).matmul(x.get(1)), s(4), s(4, 3)));
        cs.add(c("matmul matrix-vector", x -> x.get(0).matmul(x.get(1)), s(3, 4), s(4)));
        cs.add(c("matmul dot", x -> x.get(0).matmul(x.get(1)), s(5), s(5)));
        cs.add(c("reshape", x -> x.get(0).reshape(4, -1).mul(x.get(0).reshape(4, 3)), s(2, 6)));
        cs.add(c("reshape of transpose (copy)", x -> x.get(0).t().reshape(-1), s(3, 4)));
        cs.add(c("flatten", x -> x.get(0).flatten(1), s(2, 3, 2)));
        cs.add(c("permute", x -> x.get(0).permute(2, 0, 1).mul(x.get(1)), s(2, 3, 4), s(4, 2, 3)));
        cs.add(c("transpose", x -> x.get(0).transpose(0, 2), s(2, 3, 4)));
        cs.add(c("expand", x -> x.get(0).expand(3, 2, 4), s(2, 1)));
        cs.add(c("slice", x -> x.get(0).slice(1, 1, 3), s(3, 5)));
        cs.add(c("slice negative", x -> x.get(0).slice(0, -2, 3), s(3, 5)));
        cs.add(c("squeeze/unsqueeze", x -> x.get(0).unsqueeze(1).mul(x.get(1)).squeeze(0), s(1, 3), s(3, 1)));
        cs.add(c("contiguous", x -> x.get(0).t().contiguous(), s(3, 4)));
        cs.add(c("copy", x -> x.get(0).copy().mul(x.get(0)), s(3)));
        cs.add(c("cat", x -> Tensor.cat(1, x.get(0), x.get(1)), s(2, 3), s(2, 2)));
        cs.add(c("softmax", x -> x.get(0).softmax(-1), s(3, 5)));
        cs.add(c("softmax dim 0", x -> x.get(0).softmax(0), s(3, 5)));
        cs.add(c("logSoftmax", x -> x.get(0).logSoftmax(1), s(4, 6)));
        cs.add(c("logSoftmax 3d middle", x -> x.get(0).logSoftmax(1), s(2, 3, 4)));
        cs.add(c("crossEntropy", x -> Functional.crossEntropyPerRow(x.get(0), labels(x.get(0), 2, 0, 4), -100, 0),
                s(3, 5)));
        cs.add(c("crossEntropy smoothing+ignore",
                x -> Functional.crossEntropyPerRow(x.get(0), labels(x.get(0), 1, -100, 3, 0), -100, 0.1), s(4, 5)));
        cs.add(c("dropout", x -> Functional.dropout(x.get(0), 0.3, new Generator(7), true), s(4, 6)));
        cs.add(c("composite mlp", x -> x.get(0).matmul(x.get(1).t()).add(x.get(2)).tanh().matmul(x.get(3)).sum(1,
                false), s(4, 3), s(5, 3), s(5), s(5, 2)));
        addConvolutionCases(cs);
        addRecurrentCases(cs);
        return cs;
    }

    private static final int[] ONE = {1};

    private static int[] ints(int... v) {
        return v;
    }

    /** Convolution, pooling and batch-norm cases (appended for the CNN layers). */
    private static void addConvolutionCases(List<Case> cs) {
        cs.add(c("conv2d k3 pad1", x -> Functional.conv2d(x.get(0), x.get(1), x.get(2), ONE, ints(1), ONE, 1),
                s(2, 2, 5, 5), s(3, 2, 3, 3), s(3)));
        cs.add(c("conv2d small (elementwise)", x -> Functional.conv2d(x.get(0), x.get(1), x.get(2), ONE, ints(0), ONE, 1),
                s(1, 2, 4, 4), s(2, 2, 3, 3), s(2)));
        cs.add(c("conv2d stride2 asymmetric padding dilation2",
                x -> Functional.conv2d(x.get(0), x.get(1), x.get(2), ints(2, 1), ints(1, 0, 2, 1), ints(2, 1), 1),
                s(1, 2, 7, 6), s(2, 2, 2, 3), s(2)));
        cs.add(c("conv2d groups2", x -> Functional.conv2d(x.get(0), x.get(1), x.get(2), ONE, ints(1), ONE, 2),
                s(1, 4, 5, 5), s(4, 2, 3, 3), s(4)));
        cs.add(c("conv2d depthwise stride2", x -> Functional.conv2d(x.get(0), x.get(1), null, ints(2), ints(1), ONE, 3),
                s(2, 3, 6, 5), s(3, 1, 3, 3)));
        cs.add(c("conv2d same even kernel dilation", x -> Functional.conv2d(x.get(0), x.get(1), x.get(2), ONE, "same",
                ints(2), 1), s(1, 2, 5, 6), s(2, 2, 2, 2), s(2)));
        cs.add(c("conv2d 1x1 then relu", x -> Functional.conv2d(x.get(0), x.get(1), x.get(2), ONE, ints(0), ONE, 1).relu(),
                s(2, 3, 3, 3), s(4, 3, 1, 1), s(4)));
        cs.add(c("conv2d input only", x -> Functional.conv2d(x.get(0), x.get(0).sinew().full(0.5, DType.FLOAT64, 2, 2,
                3, 3), null, ONE, ints(1), ONE, 1), s(1, 2, 4, 4)));
        cs.add(c("conv2d weight and bias only", x -> Functional.conv2d(x.get(0).sinew().full(0.25, DType.FLOAT64, 1, 2,
                4, 4), x.get(0), x.get(1), ONE, ints(1), ONE, 1), s(3, 2, 3, 3), s(3)));
        cs.add(c("maxPool2d k3 s2 p1 ceil", x -> Functional.maxPool2d(x.get(0), ints(3), ints(2), ints(1), ONE, true),
                s(1, 2, 7, 6)));
        cs.add(c("maxPool2d k2 dilation2", x -> Functional.maxPool2d(x.get(0), ints(2), ints(1), ints(1), ints(2), false),
                s(2, 1, 5, 5)));
        cs.add(c("avgPool2d k3 s2 p1 ceil exclude pad",
                x -> Functional.avgPool2d(x.get(0), ints(3), ints(2), ints(1), true, false), s(1, 2, 6, 7)));
        cs.add(c("avgPool2d k2 s1 p1 include pad",
                x -> Functional.avgPool2d(x.get(0), ints(2, 3), ints(1), ints(1), false, true), s(2, 1, 4, 5)));
        cs.add(c("adaptiveAvgPool2d 7x5 -> 3x2", x -> Functional.adaptiveAvgPool2d(x.get(0), 3, 2), s(1, 2, 7, 5)));
        cs.add(c("adaptiveAvgPool2d 6x6 -> 2x3", x -> Functional.adaptiveAvgPool2d(x.get(0), 2, 3), s(2, 1, 6, 6)));
        // Outputs of batch norm and of the stacked case are scaled down: GradCheck judges small gradient
        // entries against an absolute floor, and the central difference of a loss of size ~10 carries
        // ~1e-9 of rounding noise.
        cs.add(c("batchNorm2d train", x -> Functional.batchNorm2d(x.get(0), null, null, x.get(1), x.get(2), true, 0.1,
                1e-5).mul(0.1), s(3, 2, 3, 3), s(2), s(2)));
        cs.add(c("batchNorm2d train updating running stats", x -> {
            Tensor rm = x.get(0).sinew().zeros(DType.FLOAT64, 3);
            Tensor rv = x.get(0).sinew().ones(DType.FLOAT64, 3);
            return Functional.batchNorm2d(x.get(0), rm, rv, x.get(1), x.get(2), true, 0.1, 1e-3);
        }, s(2, 3, 2, 4), s(3), s(3)));
        cs.add(c("batchNorm2d eval", x -> {
            Tensor rm = x.get(0).sinew().full(0.3, DType.FLOAT64, 2);
            Tensor rv = x.get(0).sinew().full(1.7, DType.FLOAT64, 2);
            return Functional.batchNorm2d(x.get(0), rm, rv, x.get(1), x.get(2), false, 0.1, 1e-5);
        }, s(2, 2, 3, 3), s(2), s(2)));
        cs.add(c("dropout2d", x -> Functional.dropout2d(x.get(0), 0.4, new Generator(11), true), s(3, 4, 2, 2)));
        cs.add(c("conv -> pool -> conv", x -> {
            Tensor h = Functional.conv2d(x.get(0), x.get(1), x.get(2), ONE, ints(1), ONE, 1).tanh();
            h = Functional.maxPool2d(h, ints(2), null, ints(0), ONE, false);
            return Functional.conv2d(h, x.get(3), null, ONE, "same", ONE, 1).mul(0.05);
        }, s(2, 1, 6, 6), s(3, 1, 3, 3), s(3), s(2, 3, 3, 3)));
    }

    /**
     * Recurrent cases (appended for the recurrent layers): the fused op in every mode (all outputs —
     * y, hN and cN — checked at once, with respect to the input, the initial states and every weight),
     * stacked, bidirectional, batch-first, projected and with variable lengths; the minimal gated unit
     * and the clockwork RNN (composed from tensor ops). Sizes are small; values in [−1, 1].
     */
    private static void addRecurrentCases(List<Case> cs) {
        cs.add(rnn("rnn tanh", new RnnParams(RnnMode.RNN_TANH, 2, 3, 0, 1, false, true), 3, 2, true, false, null, false));
        cs.add(rnn("rnn relu 2 layers bidirectional lengths", new RnnParams(RnnMode.RNN_RELU, 2, 3, 0, 2, true, true), 3,
                2, true, false, new long[] {1, 3}, false));
        cs.add(rnn("lstm h0 c0", new RnnParams(RnnMode.LSTM, 2, 3, 0, 1, false, true), 3, 2, true, true, null, false));
        cs.add(rnn("lstm 2 layers bidirectional lengths batch-first", new RnnParams(RnnMode.LSTM, 2, 2, 0, 2, true, true),
                3, 2, true, true, new long[] {3, 2}, true));
        cs.add(rnn("lstm projection bidirectional lengths", new RnnParams(RnnMode.LSTM, 2, 3, 2, 1, true, false), 3, 2,
                true, true, new long[] {2, 3}, false));
        cs.add(rnn("gru h0", new RnnParams(RnnMode.GRU, 2, 3, 0, 1, false, true), 3, 2, true, false, null, false));
        cs.add(rnn("gru 2 layers bidirectional lengths", new RnnParams(RnnMode.GRU, 2, 2, 0, 2, true, true), 3, 2, false,
                false, new long[] {3, 1}, false));
        RnnParams twoLayers = new RnnParams(RnnMode.LSTM, 2, 2, 0, 2, true, true);
        List<long[]> dropShapes = new ArrayList<>(List.of(s(3, 2, 2), twoLayers.hiddenShape(2), twoLayers.cellShape(2)));
        dropShapes.addAll(twoLayers.weightShapes());
        cs.add(new Case("fused lstm 2 layers with dropout between them (layer by layer)", x -> {
            RnnOutput o = Functional.rnn(twoLayers, x.get(0), x.get(1), x.get(2), x.subList(3, x.size()),
                    new long[] {2, 3}, false, 0.4, new Generator(7), true);
            return Tensor.cat(0, o.output().reshape(-1), o.hN().reshape(-1), o.cN().reshape(-1));
        }, dropShapes.toArray(long[][]::new), -1, 1));
        RnnOptions mgu = RnnOptions.of(2, 3).numLayers(2).bidirectional(true).dtype(DType.FLOAT64);
        List<long[]> mguShapes = new ArrayList<>(List.of(s(3, 2, 2), s(4, 2, 3)));
        mguShapes.addAll(MinimalGatedUnit.weightShapes(mgu));
        cs.add(new Case("minimal gated unit 2 layers bidirectional lengths", x -> {
            RnnOutput o = MinimalGatedUnit.apply(mgu, x.get(0), x.get(1), x.subList(2, x.size()), new long[] {3, 2},
                    null, false);
            return Tensor.cat(0, o.output().reshape(-1), o.hN().reshape(-1));
        }, mguShapes.toArray(long[][]::new), -1, 1));
        RnnOptions mguBf = RnnOptions.of(2, 2).batchFirst(true).bias(false).dtype(DType.FLOAT64);
        List<long[]> bfShapes = new ArrayList<>(List.of(s(2, 3, 2)));
        bfShapes.addAll(MinimalGatedUnit.weightShapes(mguBf));
        cs.add(new Case("minimal gated unit batch-first no bias", x -> MinimalGatedUnit.apply(mguBf, x.get(0), null,
                x.subList(1, x.size()), null, null, false).output(), bfShapes.toArray(long[][]::new), -1, 1));
        long[] periods = {1, 2, 4};
        List<long[]> cwShapes = new ArrayList<>(List.of(s(5, 2, 2), s(1, 2, 6)));
        cwShapes.addAll(ClockworkRNN.weightShapes(2, 2, 3));
        cs.add(new Case("clockwork rnn 3 modules", x -> {
            RnnOutput o = ClockworkRNN.apply(2, 2, periods, false, x.get(0), x.get(1), 1, x.subList(2, x.size()));
            return Tensor.cat(0, o.output().reshape(-1), o.hN().reshape(-1));
        }, cwShapes.toArray(long[][]::new), -1, 1));
    }

    /** The fused op: inputs x, [h0], [c0], weights...; output y, hN, cN flattened and concatenated. */
    private static Case rnn(String name, RnnParams p, long t, long b, boolean h0, boolean c0, long[] lengths,
            boolean batchFirst) {
        List<long[]> shapes = new ArrayList<>();
        shapes.add(batchFirst ? s(b, t, p.inputSize()) : s(t, b, p.inputSize()));
        if (h0) {
            shapes.add(p.hiddenShape(b));
        }
        if (c0) {
            shapes.add(p.cellShape(b));
        }
        int first = shapes.size();
        shapes.addAll(p.weightShapes());
        return new Case("fused " + name, x -> {
            RnnOutput o = Functional.rnn(p, x.get(0), h0 ? x.get(1) : null, c0 ? x.get(first - 1) : null,
                    x.subList(first, x.size()), lengths, batchFirst, 0, null, true);
            Tensor all = Tensor.cat(0, o.output().reshape(-1), o.hN().reshape(-1));
            return o.cN() == null ? all : Tensor.cat(0, all, o.cN().reshape(-1));
        }, shapes.toArray(long[][]::new), -1, 1);
    }

    private static Tensor labels(Tensor like, long... v) {
        return like.sinew().fromArray(v, v.length);
    }

    @TestFactory
    Stream<DynamicTest> everyOpPassesGradCheck() {
        return cases().stream().map(cs -> DynamicTest.dynamicTest(cs.name(), () -> {
            Generator g = new Generator(cs.name().hashCode());
            List<Tensor> inputs = new ArrayList<>();
            try {
                for (long[] shape : cs.shapes()) {
                    inputs.add(sn.uniform(g, cs.lo(), cs.hi(), DType.FLOAT64, shape).detachFromScope());
                }
                GradCheck.check(cs.name(), cs.f(), inputs);
            } finally {
                inputs.forEach(Tensor::close);
            }
        }));
    }
}
