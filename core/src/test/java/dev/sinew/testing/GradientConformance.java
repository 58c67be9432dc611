package dev.sinew.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sinew.DType;
import dev.sinew.Functional;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
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
        return cs;
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
