package dev.sinew;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Tensor semantics, views, autograd bookkeeping, ownership and error messages (reference backend). */
class TensorTest {
    private Sinew sn;
    private Scope scope;

    @BeforeEach
    void open() {
        sn = Sinew.use("reference");
        scope = sn.scope();
    }

    @AfterEach
    void close() {
        scope.close();
        long live = sn.backend().liveBuffers();
        sn.close();
        assertEquals(0, live, "live buffers left after the test");
    }

    private Tensor m(double[] v, long... shape) {
        return sn.fromArray(v, shape);
    }

    @Test
    void creationAndReads() {
        Tensor z = sn.zeros(2, 3);
        assertEquals(Shape.of(2, 3), z.shape());
        assertEquals(DType.FLOAT32, z.dtype());
        assertArrayEquals(new float[6], z.toFloatArray());
        assertArrayEquals(new double[] {7, 7}, sn.full(7, DType.FLOAT64, 2).toDoubleArray());
        assertArrayEquals(new long[] {0, 1, 2, 3}, sn.arange(4).toLongArray());
        assertArrayEquals(new double[] {1, 1.5, 2, 2.5}, sn.arange(1, 3, 0.5, DType.FLOAT64).toDoubleArray());
        Tensor t = sn.fromArray(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertEquals(6.0, t.getDouble(1, 2));
        assertEquals(2.0, t.getDouble(0, 1));
        assertEquals(3.5, sn.scalar(3.5, DType.FLOAT64).item());
    }

    @Test
    void randomIsSeededAndBackendIndependentOfCallSplitting() {
        Tensor a = sn.randn(new Generator(5), DType.FLOAT64, 10);
        Generator g = new Generator(5);
        Tensor b1 = sn.randn(g, DType.FLOAT64, 4);
        Tensor b2 = sn.randn(g, DType.FLOAT64, 6);
        double[] joined = Tensor.cat(0, b1, b2).toDoubleArray();
        assertArrayEquals(a.toDoubleArray(), joined);
        double[] u = sn.uniform(new Generator(9), -1, 1, DType.FLOAT64, 10000).toDoubleArray();
        double mean = 0;
        for (double x : u) {
            assertTrue(x >= -1 && x < 1);
            mean += x / u.length;
        }
        assertEquals(0, mean, 0.05);
    }

    @Test
    void broadcastingArithmetic() {
        Tensor a = m(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = m(new double[] {10, 20, 30}, 3);
        assertArrayEquals(new double[] {11, 22, 33, 14, 25, 36}, a.add(b).toDoubleArray());
        Tensor col = m(new double[] {1, 2}, 2, 1);
        assertArrayEquals(new double[] {1, 2, 3, 12, 15, 18}, a.mul(col.add(col).sub(1.0)).toDoubleArray());
        assertArrayEquals(new double[] {0, 0, 1, 1, 1, 1}, a.gt(2.0).toDoubleArray());
    }

    @Test
    void reductionsAndArgmax() {
        Tensor a = m(new double[] {1, 5, 3, 4, 2, 6}, 2, 3);
        assertEquals(21.0, a.sum().item());
        assertArrayEquals(new double[] {5, 7, 9}, a.sum(0, false).toDoubleArray());
        assertEquals(Shape.of(2, 1), a.sum(1, true).shape());
        assertArrayEquals(new double[] {3, 4}, a.mean(1, false).toDoubleArray());
        assertArrayEquals(new double[] {5, 6}, a.max(1, false).toDoubleArray());
        assertArrayEquals(new long[] {1, 2}, a.argmax(1).toLongArray());
        assertArrayEquals(new long[] {1, 0, 1}, a.argmax(0).toLongArray());
    }

    @Test
    void matmulShapes() {
        Tensor a = m(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = m(new double[] {1, 0, 0, 1, 1, 1}, 3, 2);
        assertArrayEquals(new double[] {4, 5, 10, 11}, a.matmul(b).toDoubleArray());
        assertArrayEquals(new double[] {14, 32}, a.matmul(m(new double[] {1, 2, 3}, 3)).toDoubleArray());
        assertEquals(Shape.of(4, 2, 2), sn.ones(DType.FLOAT64, 4, 2, 3).matmul(b).shape());
        assertEquals(Shape.scalar(), m(new double[] {1, 2}, 2).matmul(m(new double[] {3, 4}, 2)).shape());
        var e = assertThrows(IllegalArgumentException.class, () -> a.matmul(a));
        assertTrue(e.getMessage().contains("matmul") && e.getMessage().contains("[2, 3]"), e.getMessage());
    }

    @Test
    void viewsShareStorage() {
        Tensor a = m(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor t = a.t();
        assertEquals(Shape.of(3, 2), t.shape());
        assertFalse(t.isContiguous());
        assertArrayEquals(new double[] {1, 4, 2, 5, 3, 6}, t.toDoubleArray());
        assertArrayEquals(new double[] {1, 4, 2, 5, 3, 6}, t.reshape(6).toDoubleArray());
        Tensor s = a.slice(1, 1, 3);
        assertArrayEquals(new double[] {2, 3, 5, 6}, s.toDoubleArray());
        s.fill_(0);
        assertArrayEquals(new double[] {1, 0, 0, 4, 0, 0}, a.toDoubleArray());
        assertEquals(Shape.of(2, 1, 3), a.unsqueeze(1).shape());
        assertEquals(Shape.of(4, 2, 3), a.expand(4, 2, 3).shape());
        assertArrayEquals(new double[] {1, 0, 0, 4, 0, 0, 1, 0, 0, 4, 0, 0}, a.expand(2, 2, 3).toDoubleArray());
    }

    @Test
    void autogradAccumulatesAndZeroes() {
        Tensor w = m(new double[] {1, 2, 3}, 3).detachFromScope().requiresGrad(true);
        try {
            w.mul(w).sum().backward();
            assertArrayEquals(new double[] {2, 4, 6}, w.grad().toDoubleArray());
            w.sum().backward();
            assertArrayEquals(new double[] {3, 5, 7}, w.grad().toDoubleArray());
            w.zeroGrad();
            assertNull(w.grad());
            Tensor d = w.detach();
            assertFalse(d.requiresGrad());
            try (NoGrad ng = sn.noGrad()) {
                assertFalse(w.mul(2.0).requiresGrad());
            }
            assertTrue(w.mul(2.0).requiresGrad());
            assertEquals("mul", w.mul(2.0).gradFnName());
        } finally {
            w.close();
        }
    }

    @Test
    void gradientFlowsToTheOnlyInputThatNeedsIt() {
        Tensor w = m(new double[] {1, 2}, 2).detachFromScope().requiresGrad(true);
        try {
            Tensor c = m(new double[] {3, 4}, 2);
            c.mul(w).sum().backward();
            assertArrayEquals(new double[] {3, 4}, w.grad().toDoubleArray());
            w.zeroGrad();
            w.mul(c).div(c.add(1.0)).sum().backward();
            assertArrayEquals(new double[] {0.75, 0.8}, w.grad().toDoubleArray(), 1e-15);
        } finally {
            w.close();
        }
    }

    @Test
    void sharedSubgraphGradients() {
        Tensor x = m(new double[] {0.5, -1}, 2).detachFromScope().requiresGrad(true);
        try {
            Tensor y = x.tanh();
            y.mul(y).add(y).sum().backward(); // d/dx (y² + y) = (2y + 1)(1 − y²)
            double[] xs = {0.5, -1};
            double[] g = x.grad().toDoubleArray();
            for (int i = 0; i < 2; i++) {
                double t = Math.tanh(xs[i]);
                assertEquals((2 * t + 1) * (1 - t * t), g[i], 1e-12);
            }
        } finally {
            x.close();
        }
    }

    @Test
    void scopeFreesTemporariesButNotKeptOrDetached() {
        long before = sn.backend().liveBuffers();
        Tensor kept;
        Tensor owned;
        try (Scope inner = sn.scope()) {
            Tensor a = sn.ones(3);
            a.add(a).mul(a);
            kept = inner.keep(a.mul(5.0));
            owned = sn.zeros(2).detachFromScope();
            assertTrue(inner.liveTensors() >= 3);
        }
        assertFalse(kept.isClosed());
        assertArrayEquals(new float[] {5, 5, 5}, kept.toFloatArray());
        assertEquals(before + 2, sn.backend().liveBuffers());
        owned.close();
        // kept now belongs to the outer scope, closed in @AfterEach
    }

    @Test
    void useAfterCloseIsIllegalState() {
        Tensor a = sn.ones(2);
        Tensor v = a.reshape(2, 1);
        a.close();
        assertArrayEquals(new float[] {1, 1}, v.toFloatArray(), "a view keeps the storage alive");
        var e = assertThrows(IllegalStateException.class, () -> a.add(a));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        v.close();
        assertThrows(IllegalStateException.class, v::toFloatArray);
    }

    @Test
    void clearErrors() {
        Tensor a = sn.zeros(2, 3);
        Tensor b = sn.zeros(4, 3);
        var e = assertThrows(IllegalArgumentException.class, () -> a.add(b));
        assertTrue(e.getMessage().startsWith("add:") && e.getMessage().contains("[2, 3]")
                && e.getMessage().contains("[4, 3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> a.add(sn.zeros(DType.FLOAT64, 2, 3)));
        assertTrue(e.getMessage().contains("dtype"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> sn.zeros(2, 0));
        assertTrue(e.getMessage().contains("dimension 1 has size 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> sn.zeros(-1));
        assertThrows(IllegalArgumentException.class, () -> a.reshape(5));
        assertThrows(IllegalArgumentException.class, () -> a.sum(2, false));
        assertThrows(IllegalArgumentException.class, () -> a.permute(0, 0));
        assertThrows(IllegalArgumentException.class, () -> a.slice(1, 3, 3));
        assertThrows(IllegalArgumentException.class, () -> sn.fromArray(new float[5], 2, 3));
        assertThrows(IllegalArgumentException.class, () -> sn.arange(4).log());
        assertThrows(IllegalArgumentException.class, () -> sn.arange(4).requiresGrad(true));
        Tensor logits = sn.zeros(2, 3);
        e = assertThrows(IllegalArgumentException.class,
                () -> Functional.crossEntropyPerRow(logits, sn.fromArray(new long[] {0, 3}, 2), -100, 0));
        assertTrue(e.getMessage().contains("label 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Functional.crossEntropyPerRow(logits, sn.fromArray(new long[] {0}, 1), -100, 0));
    }

    @Test
    void unknownBackendNamesAlternatives() {
        var e = assertThrows(IllegalArgumentException.class, () -> Sinew.use("tpu"));
        assertTrue(e.getMessage().contains("unknown backend 'tpu'") && e.getMessage().contains("reference"),
                e.getMessage());
        List<Sinew.ProviderStatus> ps = Sinew.providers();
        assertTrue(ps.stream().anyMatch(p -> p.name().equals("reference") && p.availability().available()));
    }
}
