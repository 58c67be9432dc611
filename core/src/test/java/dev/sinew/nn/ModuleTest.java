package dev.sinew.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Module bookkeeping: registration, names, modes, gradients, lifetime, and layer argument checks. */
class ModuleTest extends SinewTestBase {

    /** A module with a parameter, a buffer and a shared child, to exercise the bookkeeping. */
    static final class Custom extends Module {
        final Tensor scale;
        final Linear inner;

        Custom(dev.sinew.Sinew sn, Linear shared) {
            scale = registerParameter("scale", sn.ones(DType.FLOAT32, 3));
            registerBuffer("count", sn.zeros(DType.INT64, 1));
            inner = registerModule("inner", shared);
        }

        void register(String name) {
            registerParameter(name, scale.sinew().ones(1));
        }

        @Override
        public Tensor forward(Tensor x) {
            return inner.forward(x).mul(scale);
        }
    }

    @Test
    void parametersOutliveScopesAndCloseFreesEverything() {
        long before = sn.backend().liveBuffers();
        Sequential model;
        try (var _ = sn.scope()) {
            model = new Sequential(new Linear(sn, 4, 3, gen), new ReLU(), new Linear(sn, 3, 2, gen));
        }
        for (Tensor p : model.parameters()) {
            assertFalse(p.isClosed(), "parameters must survive the scope they were made in");
            assertTrue(p.requiresGrad());
        }
        try (var _ = sn.scope()) {
            Tensor loss = model.forward(sn.randn(gen, DType.FLOAT32, 5, 4)).sum();
            loss.backward();
        }
        for (Tensor p : model.parameters()) {
            assertNotNull(p.grad(), "gradients belong to the parameters and survive the step scope");
        }
        model.zeroGrad();
        for (Tensor p : model.parameters()) {
            assertNull(p.grad());
        }
        try (var _ = sn.scope()) {
            model.forward(sn.randn(gen, DType.FLOAT32, 5, 4)).sum().backward();
        }
        List<Tensor> params = model.parameters();
        model.close();
        model.close(); // idempotent
        assertTrue(model.isClosed());
        for (Tensor p : params) {
            assertTrue(p.isClosed());
        }
        assertEquals(before, sn.backend().liveBuffers(), "closing the model frees parameters and grads");
        assertThrows(IllegalStateException.class, model::parameters);
    }

    @Test
    void trainAndEvalAreRecursive() {
        Dropout drop = new Dropout(0.5, gen);
        try (Sequential inner = new Sequential(drop); Sequential outer = new Sequential(new ReLU(), inner)) {
            assertTrue(drop.isTraining());
            outer.eval();
            assertFalse(outer.isTraining());
            assertFalse(inner.isTraining());
            assertFalse(drop.isTraining());
            Tensor x = sn.randn(gen, DType.FLOAT32, 4, 8);
            assertSame(x, drop.forward(x), "dropout is the identity in eval mode");
            outer.train();
            assertTrue(drop.isTraining());
            // A module added to a container in eval mode takes the container's mode.
            outer.eval();
            outer.add(new Dropout(0.1, gen));
            assertFalse(outer.get(2).isTraining());
        }
    }

    @Test
    void dropoutZeroesAndRescalesInTraining() {
        try (Dropout drop = new Dropout(0.25, gen)) {
            Tensor x = sn.ones(DType.FLOAT64, 4000);
            double[] y = drop.forward(x).toDoubleArray();
            int zeros = 0;
            for (double v : y) {
                if (v == 0) {
                    zeros++;
                } else {
                    assertEquals(1 / 0.75, v, 1e-12);
                }
            }
            assertEquals(0.25, zeros / 4000.0, 0.03);
        }
        assertThrows(IllegalArgumentException.class, () -> new Dropout(1.5, gen));
        assertThrows(IllegalArgumentException.class, () -> new Dropout(-0.1, gen));
        assertThrows(IllegalArgumentException.class, () -> new Dropout(0.5, null));
    }

    @Test
    void registrationRulesAndSharedParameters() {
        try (Linear shared = new Linear(sn, 3, 3, gen); Custom c = new Custom(sn, shared)) {
            assertEquals(List.of("scale", "inner.weight", "inner.bias"), List.copyOf(c.namedParameters().keySet()));
            assertEquals(List.of("scale", "count", "inner.weight", "inner.bias"), List.copyOf(c.stateDict().keySet()));
            assertEquals(List.of("count"), List.copyOf(c.namedBuffers().keySet()));
            var e = assertThrows(IllegalArgumentException.class, () -> c.register("scale"));
            assertTrue(e.getMessage().contains("already registered"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> c.register("a.b"));
            assertTrue(e.getMessage().contains("'.'"), e.getMessage());
            // The same Linear in two places of a Sequential is listed once by namedParameters().
            try (Sequential s = new Sequential(shared, new ReLU(), shared)) {
                assertEquals(List.of("0.weight", "0.bias"), List.copyOf(s.namedParameters().keySet()));
                assertEquals(4, s.stateDict().size());
            }
            assertTrue(shared.weight().isClosed(), "a container closes its children (shared ones too)");
        }
    }

    @Test
    void loadStateDictChecksKeysAndShapes() {
        try (Linear a = new Linear(sn, 3, 2, true, DType.FLOAT64, gen);
                Linear b = new Linear(sn, 3, 2, true, DType.FLOAT64, new dev.sinew.Generator(7))) {
            b.loadStateDict(a.stateDict(), true);
            assertArrayEquals(a.weight().toDoubleArray(), b.weight().toDoubleArray());
            assertArrayEquals(a.bias().toDoubleArray(), b.bias().toDoubleArray());
            var e = assertThrows(IllegalArgumentException.class,
                    () -> b.loadStateDict(Map.of("weight", a.weight()), true));
            assertTrue(e.getMessage().contains("missing keys [bias]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> b.loadStateDict(Map.of("weight", sn.zeros(DType.FLOAT64, 3, 3)), false));
            assertTrue(e.getMessage().contains("[3, 3]") && e.getMessage().contains("[2, 3]"), e.getMessage());
        }
    }

    @Test
    void linearDefaultInitIsPyTorchsBound() {
        try (Linear lin = new Linear(sn, 50, 200, gen)) {
            double bound = 1 / Math.sqrt(50);
            for (Tensor t : List.of(lin.weight(), lin.bias())) {
                double[] v = t.toDoubleArray();
                double max = 0;
                double sumSq = 0;
                for (double x : v) {
                    max = Math.max(max, Math.abs(x));
                    sumSq += x * x;
                }
                assertTrue(max <= bound, "|w| <= 1/sqrt(in)");
                if (v.length > 1000) {
                    assertEquals(max, bound, bound * 0.01, "the bound is reached");
                    assertEquals(bound / Math.sqrt(3), Math.sqrt(sumSq / v.length), bound * 0.02);
                }
            }
            assertArrayEquals(new long[] {200, 50}, lin.weight().dims());
            assertEquals("Linear(in_features=50, out_features=200, bias=true)", lin.toString());
        }
        // Same seed, same weights.
        try (Linear a = new Linear(sn, 4, 4, new dev.sinew.Generator(3));
                Linear b = new Linear(sn, 4, 4, new dev.sinew.Generator(3))) {
            assertArrayEquals(a.weight().toFloatArray(), b.weight().toFloatArray());
        }
    }

    @Test
    void linearRejectsBadInput() {
        try (Linear lin = new Linear(sn, 4, 3, gen)) {
            var e = assertThrows(IllegalArgumentException.class, () -> lin.forward(sn.zeros(2, 5)));
            assertTrue(e.getMessage().contains("Linear(4 -> 3)") && e.getMessage().contains("[2, 5]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> lin.forward(sn.zeros(DType.FLOAT64, 2, 4)));
            assertTrue(e.getMessage().contains("FLOAT64"), e.getMessage());
            // Any leading dimensions work, as torch.nn.Linear.
            assertArrayEquals(new long[] {2, 5, 3}, lin.forward(sn.zeros(2, 5, 4)).dims());
            assertArrayEquals(new long[] {3}, lin.forward(sn.zeros(4)).dims());
        }
        assertThrows(IllegalArgumentException.class, () -> new Linear(sn, 0, 3, gen));
        assertThrows(IllegalArgumentException.class, () -> new Linear(sn, 2, 3, true, DType.INT64, gen));
    }

    @Test
    void flattenShapes() {
        Tensor x = sn.zeros(2, 3, 4, 5);
        try (Flatten f = new Flatten(); Flatten all = new Flatten(0); Flatten mid = new Flatten(1, 2)) {
            assertArrayEquals(new long[] {2, 60}, f.forward(x).dims());
            assertArrayEquals(new long[] {120}, all.forward(x).dims());
            assertArrayEquals(new long[] {2, 12, 5}, mid.forward(x).dims());
            assertThrows(IllegalArgumentException.class, () -> new Flatten(3, 1).forward(x));
        }
    }

    @Test
    void sequentialPrintsLikePyTorch() {
        try (Sequential s = new Sequential(new Linear(sn, 2, 3, gen), new Softmax(1))) {
            assertEquals("Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=true)\n"
                    + "  (1): Softmax(dim=1)\n)", s.toString());
            assertEquals(2, s.size());
            assertThrows(IllegalArgumentException.class, () -> s.get(2));
        }
    }
}
