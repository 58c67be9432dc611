package dev.sinew.nn;

import static dev.sinew.nn.Golden.assertClose;
import static dev.sinew.nn.Golden.obj;
import static dev.sinew.nn.Golden.tensor;
import static dev.sinew.nn.Golden.tol;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Tensor;
import dev.sinew.testing.GradCheck;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Losses against PyTorch 1.13 (values and input gradients), gradient checks, and argument errors. */
class LossesTest extends SinewTestBase {
    private static final Map<String, Object> G = Golden.load("losses_golden.json");

    private static Reduction reduction(Object c) {
        return Reduction.valueOf(((String) Golden.get(c, "reduction")).toUpperCase(Locale.ROOT));
    }

    /** Runs {@code loss(input)} and its backward (with the fixture's upstream gradient for NONE). */
    private void check(String what, Map<String, Object> group, String inputKey, Map<String, Object> c, DType dt,
            Reduction r, java.util.function.Function<Tensor, Tensor> loss) {
        Tensor x = tensor(sn, group.get(inputKey), dt).requiresGrad(true);
        Tensor y = loss.apply(x);
        assertClose(what + " value", c.get("y"), y, tol(dt));
        if (r == Reduction.NONE) {
            y.backward(tensor(sn, group.get("gout_none"), dt));
        } else {
            y.backward();
        }
        assertClose(what + " grad", c.get("dx"), x.grad(), tol(dt));
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT64", "FLOAT32"})
    void crossEntropyMatchesPyTorch(DType dt) {
        Map<String, Object> ce = obj(G, "cross_entropy");
        Map<String, Object> cases = obj(ce, "cases");
        assertEquals(9, cases.size());
        for (var e : cases.entrySet()) {
            Map<String, Object> c = obj(cases, e.getKey());
            Tensor labels = tensor(sn, c.get("labels"), DType.INT64);
            long ignore = (long) Golden.num(c, "ignore_index");
            double smoothing = Golden.num(c, "label_smoothing");
            Reduction r = reduction(c);
            check("crossEntropy " + e.getKey(), ce, "logits", c, dt, r,
                    x -> Losses.crossEntropy(x, labels, ignore, smoothing, r));
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT64", "FLOAT32"})
    void nllMatchesPyTorch(DType dt) {
        Map<String, Object> nll = obj(G, "nll");
        Map<String, Object> cases = obj(nll, "cases");
        for (var e : cases.entrySet()) {
            Map<String, Object> c = obj(cases, e.getKey());
            Tensor labels = tensor(sn, c.get("labels"), DType.INT64);
            long ignore = (long) Golden.num(c, "ignore_index");
            Reduction r = reduction(c);
            check("nll " + e.getKey(), nll, "log_probs", c, dt, r, x -> Losses.nll(x, labels, ignore, r));
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT64", "FLOAT32"})
    void bceWithLogitsMatchesPyTorch(DType dt) {
        Map<String, Object> bce = obj(G, "bce_with_logits");
        Tensor targets = tensor(sn, bce.get("targets"), dt);
        for (Reduction r : Reduction.values()) {
            Map<String, Object> c = obj(obj(bce, "cases"), r.name().toLowerCase(Locale.ROOT));
            check("bce " + r, bce, "logits", c, dt, r, x -> Losses.binaryCrossEntropyWithLogits(x, targets, r));
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT64", "FLOAT32"})
    void mseMatchesPyTorch(DType dt) {
        Map<String, Object> mse = obj(G, "mse");
        Tensor target = tensor(sn, mse.get("target"), dt);
        for (Reduction r : Reduction.values()) {
            Map<String, Object> c = obj(obj(mse, "cases"), r.name().toLowerCase(Locale.ROOT));
            check("mse " + r, mse, "pred", c, dt, r, x -> Losses.mse(x, target, r));
        }
    }

    @Test
    void defaultsAreMeanAndIgnoreMinus100() {
        Tensor logits = sn.randn(gen, DType.FLOAT64, 4, 3);
        Tensor labels = sn.fromArray(new long[] {0, 2, -100, 1}, 4);
        assertEquals(Losses.crossEntropy(logits, labels, -100, 0, Reduction.MEAN).item(),
                Losses.crossEntropy(logits, labels).item());
        Tensor lp = logits.logSoftmax(1);
        assertEquals(Losses.crossEntropy(logits, labels).item(), Losses.nll(lp, labels).item(), 1e-12);
        // Every row ignored: the mean is 0/0, NaN, as in PyTorch.
        Tensor allIgnored = sn.fromArray(new long[] {-100, -100, -100, -100}, 4);
        assertTrue(Double.isNaN(Losses.crossEntropy(logits, allIgnored).item()));
        assertEquals(0.0, Losses.crossEntropy(logits, allIgnored, Reduction.SUM).item());
    }

    @Test
    void bceIsStableAndHasTheExactGradientAtZero() {
        Tensor x = sn.fromArray(new double[] {0, 1e4, -1e4, 0}, 4).requiresGrad(true);
        Tensor y = sn.fromArray(new double[] {0.3, 1, 0, 1}, 4);
        Tensor loss = Losses.binaryCrossEntropyWithLogits(x, y, Reduction.NONE);
        double[] v = loss.toDoubleArray();
        assertEquals(Math.log(2), v[0], 1e-15);
        assertEquals(0.0, v[1], 1e-12);
        assertEquals(0.0, v[2], 1e-12);
        loss.sum().backward();
        double[] g = x.grad().toDoubleArray(); // σ(x) − y
        assertEquals(0.5 - 0.3, g[0], 1e-15);
        assertEquals(0.0, g[1], 1e-15);
        assertEquals(0.0, g[2], 1e-15);
        assertEquals(-0.5, g[3], 1e-15);
    }

    // ---- gradient checks (float64 finite differences) ----------------------------------------

    @Test
    void gradCheckCrossEntropy() {
        Tensor labels = sn.fromArray(new long[] {1, 0, -100, 3, 2}, 5);
        Tensor labels2 = sn.fromArray(new long[] {1, 0, 2, 3, 2}, 5);
        for (Reduction r : Reduction.values()) {
            GradCheck.check("crossEntropy " + r, xs -> Losses.crossEntropy(xs.get(0), labels, -100, 0.0, r),
                    List.of(sn.randn(gen, DType.FLOAT64, 5, 4)));
            GradCheck.check("crossEntropy smoothed " + r, xs -> Losses.crossEntropy(xs.get(0), labels2, 2, 0.15, r),
                    List.of(sn.randn(gen, DType.FLOAT64, 5, 4)));
        }
    }

    @Test
    void gradCheckNll() {
        Tensor labels = sn.fromArray(new long[] {1, 0, -100, 3, 2}, 5);
        Tensor labels2 = sn.fromArray(new long[] {1, 0, 2, 3, 2}, 5);
        for (Reduction r : Reduction.values()) {
            GradCheck.check("nll " + r, xs -> Losses.nll(xs.get(0), labels, r),
                    List.of(sn.randn(gen, DType.FLOAT64, 5, 4)));
            GradCheck.check("nll ignore 2 " + r, xs -> Losses.nll(xs.get(0), labels2, 2, r),
                    List.of(sn.randn(gen, DType.FLOAT64, 5, 4)));
        }
    }

    @Test
    void gradCheckBceWithLogits() {
        for (Reduction r : Reduction.values()) {
            Tensor x = sn.randn(gen, DType.FLOAT64, 3, 4).mul(3.0);
            Tensor x0 = sn.fromArray(new double[] {0, 0.5, -2, 0, 30, -30}, 6); // includes exact zeros
            GradCheck.check("bceWithLogits " + r, xs -> Losses.binaryCrossEntropyWithLogits(xs.get(0), xs.get(1), r),
                    List.of(x, sn.rand(gen, DType.FLOAT64, 3, 4)));
            GradCheck.check("bceWithLogits at 0 " + r,
                    xs -> Losses.binaryCrossEntropyWithLogits(xs.get(0), xs.get(1), r),
                    List.of(x0, sn.rand(gen, DType.FLOAT64, 6)));
        }
    }

    @Test
    void gradCheckMse() {
        for (Reduction r : Reduction.values()) {
            GradCheck.check("mse " + r, xs -> Losses.mse(xs.get(0), xs.get(1), r),
                    List.of(sn.randn(gen, DType.FLOAT64, 3, 4), sn.randn(gen, DType.FLOAT64, 3, 4)));
        }
    }

    @Test
    void gradCheckLinear() {
        try (Linear lin = new Linear(sn, 3, 2, true, DType.FLOAT64, gen)) {
            // Finite differences evaluate the layer at shifted copies of its parameters: load them into
            // a twin layer (never into lin, whose values the checker perturbs around).
            BiFunction<Tensor, List<Tensor>, Tensor> at = (x, wb) -> {
                if (wb.get(0) == lin.weight()) {
                    return lin.forward(x);
                }
                try (Linear twin = new Linear(sn, 3, 2, true, DType.FLOAT64, gen)) {
                    twin.loadStateDict(Map.of("weight", wb.get(0), "bias", wb.get(1)), true);
                    return twin.forward(x);
                }
            };
            GradCheck.check("Linear", xs -> at.apply(xs.get(0), xs.subList(1, 3)),
                    List.of(sn.randn(gen, DType.FLOAT64, 4, 3), lin.weight(), lin.bias()));
        }
    }

    // ---- argument errors -----------------------------------------------------------------------

    private static void assertMessage(Executable ex, String... parts) {
        var e = assertThrows(IllegalArgumentException.class, ex);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' should contain '" + p + "'");
        }
    }

    @Test
    void classificationLossesRejectBadArguments() {
        Tensor logits = sn.randn(gen, DType.FLOAT32, 4, 3);
        Tensor good = sn.fromArray(new long[] {0, 1, 2, 0}, 4);
        assertMessage(() -> Losses.crossEntropy(logits, sn.fromArray(new long[] {0, 1, 2}, 3)),
                "crossEntropy", "labels [3]", "logits [4, 3]");
        assertMessage(() -> Losses.crossEntropy(logits, sn.zeros(4)), "crossEntropy", "INT64", "FLOAT32");
        assertMessage(() -> Losses.crossEntropy(logits, sn.fromArray(new long[] {0, 1, 3, 0}, 4)),
                "crossEntropy", "labels[2] = 3", "[0, 3)");
        assertMessage(() -> Losses.crossEntropy(logits, sn.fromArray(new long[] {0, -1, 2, 0}, 4)),
                "labels[1] = -1");
        assertMessage(() -> Losses.crossEntropy(logits.reshape(12), good), "crossEntropy", "[N, C]", "[12]");
        assertMessage(() -> Losses.crossEntropy(logits, good, -100, 1.5, Reduction.MEAN), "labelSmoothing");
        assertMessage(() -> Losses.crossEntropy(logits, good, null), "reduction");
        assertMessage(() -> Losses.nll(logits, sn.fromArray(new long[] {0, 1}, 2)),
                "nll", "labels [2]", "logProbs [4, 3]");
        assertMessage(() -> Losses.nll(logits, sn.fromArray(new long[] {0, 1, 7, 0}, 4)), "nll", "labels[2] = 7");
        assertMessage(() -> Losses.nll(sn.fromArray(new long[] {0, 1, 7, 0}, 2, 2), good), "nll", "floating");
    }

    @Test
    void elementwiseLossesRejectBadArguments() {
        Tensor a = sn.zeros(DType.FLOAT32, 4, 3);
        assertMessage(() -> Losses.mse(a, sn.zeros(DType.FLOAT32, 4, 2)), "mse", "[4, 3]", "[4, 2]", "same shape");
        assertMessage(() -> Losses.mse(a, sn.zeros(DType.FLOAT64, 4, 3)), "mse", "FLOAT32", "FLOAT64");
        assertMessage(() -> Losses.binaryCrossEntropyWithLogits(a, sn.zeros(DType.FLOAT32, 3)),
                "binaryCrossEntropyWithLogits", "logits [4, 3]", "targets [3]");
        assertMessage(() -> Losses.mse(sn.zeros(DType.INT64, 2), sn.zeros(DType.INT64, 2)), "mse", "floating");
    }
}
