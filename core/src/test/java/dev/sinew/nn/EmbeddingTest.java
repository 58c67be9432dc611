package dev.sinew.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Tensor;
import dev.sinew.testing.GradCheck;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Embedding}: lookup values, gradients (float64 finite differences), names, initialisation, errors. */
class EmbeddingTest extends SinewTestBase {
    @Test
    void forwardPicksTheRowsForIndicesOfAnyShape() {
        try (Embedding e = new Embedding(sn, 5, 3, null, DType.FLOAT64, gen)) {
            double[] w = e.weight().toDoubleArray(); // [5, 3]
            long[] idx = {4, 0, 2, 2, 1, 4};
            Tensor out = e.forward(sn.fromArray(idx, 2, 3)); // [2, 3, 3]
            assertArrayEquals(new long[] {2, 3, 3}, out.dims());
            double[] o = out.toDoubleArray();
            for (int i = 0; i < idx.length; i++) {
                for (int d = 0; d < 3; d++) {
                    assertEquals(w[(int) idx[i] * 3 + d], o[i * 3 + d], 0.0, "row " + idx[i] + " col " + d);
                }
            }
            assertArrayEquals(new long[] {3}, e.forward(sn.fromArray(new long[] {1}).reshape()).dims(), "rank 0 → [dim]");
            assertArrayEquals(new long[] {1, 3}, e.forward(sn.fromArray(new long[] {3}, 1)).dims());
        }
    }

    @Test
    void gradientMatchesFiniteDifferencesAndAccumulatesRepeatedIndices() {
        try (Embedding e = new Embedding(sn, 4, 3, null, DType.FLOAT64, gen)) {
            Tensor idx = sn.fromArray(new long[] {1, 3, 1, 0, 1}, 5);
            GradCheck.check("embedding", xs -> e.forward(idx).mul(xs.get(0)).tanh(),
                    List.of(sn.normal(gen, 0, 1, DType.FLOAT64, 5, 3)));
            GradCheck.check("embedding weight", xs -> Embedding.lookup(xs.get(0), idx, -1).tanh(),
                    List.of(sn.normal(gen, 0, 1, DType.FLOAT64, 4, 3)));
            e.zeroGrad();
            e.forward(idx).sum().backward();
            double[] g = e.weight().grad().toDoubleArray(); // row 1 is used three times, 2 never
            assertArrayEquals(new double[] {1, 1, 1, 3, 3, 3, 0, 0, 0, 1, 1, 1}, g, 0.0);
        }
    }

    @Test
    void gradientOfTheModuleWeightByFiniteDifferences() {
        try (Embedding e = new Embedding(sn, 4, 2, null, DType.FLOAT64, gen)) {
            Tensor idx = sn.fromArray(new long[] {2, 0, 2, 3}, 2, 2);
            Tensor w = e.weight();
            double[] before = w.toDoubleArray();
            e.forward(idx).square().sum().backward();
            double[] analytic = w.grad().toDoubleArray();
            double eps = 1e-6;
            for (int k = 0; k < before.length; k++) {
                double[] plus = before.clone();
                double[] minus = before.clone();
                plus[k] += eps;
                minus[k] -= eps;
                double numeric = (lossAt(e, idx, plus) - lossAt(e, idx, minus)) / (2 * eps);
                assertEquals(numeric, analytic[k], 1e-6 * Math.max(1, Math.abs(numeric)), "weight element " + k);
            }
        }
    }

    private double lossAt(Embedding e, Tensor idx, double[] w) {
        try (var s = sn.scope(); var ng = sn.noGrad()) {
            e.weight().copy_(sn.fromArray(w, e.weight().dims()));
            return e.forward(idx).square().sum().item();
        }
    }

    @Test
    void stateDictNameInitialisationAndRepr() {
        try (Embedding e = new Embedding(sn, 200, 50, gen)) {
            assertEquals(List.of("weight"), List.copyOf(e.stateDict().keySet()));
            assertEquals(DType.FLOAT32, e.weight().dtype());
            assertArrayEquals(new long[] {200, 50}, e.weight().dims());
            double[] w = e.weight().toDoubleArray();
            double mean = 0;
            double sq = 0;
            for (double v : w) {
                mean += v;
                sq += v * v;
            }
            mean /= w.length;
            double std = Math.sqrt(sq / w.length - mean * mean);
            assertEquals(0, mean, 0.05, "N(0, 1) mean");
            assertEquals(1, std, 0.05, "N(0, 1) standard deviation");
            assertEquals("Embedding(200, 50)", e.toString());
        }
    }

    @Test
    void paddingRowStartsAtZeroAndGetsNoGradient() {
        try (Embedding e = new Embedding(sn, 4, 2, -1L, DType.FLOAT64, gen)) {
            assertEquals(3, e.paddingIdx());
            double[] w = e.weight().toDoubleArray();
            assertEquals(0, w[6], 0.0);
            assertEquals(0, w[7], 0.0);
            try (var ng = sn.noGrad()) {
                e.weight().slice(0, 3, 4).fill_(2.5); // the output is the row's value, as in PyTorch
            }
            Tensor out = e.forward(sn.fromArray(new long[] {3, 1}, 2));
            assertEquals(2.5, out.getDouble(0, 1), 0.0);
            out.sum().backward();
            assertArrayEquals(new double[] {0, 0, 1, 1, 0, 0, 0, 0}, e.weight().grad().toDoubleArray(), 0.0);
            assertEquals("Embedding(4, 2, padding_idx=3)", e.toString());
        }
    }

    @Test
    void badIndicesAndSizesAreClearErrors() {
        try (Embedding e = new Embedding(sn, 5, 3, gen)) {
            String m = assertThrows(IllegalArgumentException.class,
                    () -> e.forward(sn.fromArray(new long[] {0, 5}, 2))).getMessage();
            assertTrue(m.contains("index 5") && m.contains("[0, 5)"), m);
            m = assertThrows(IllegalArgumentException.class, () -> e.forward(sn.fromArray(new long[] {-1}, 1)))
                    .getMessage();
            assertTrue(m.contains("index -1"), m);
            m = assertThrows(IllegalArgumentException.class, () -> e.forward(sn.zeros(DType.FLOAT32, 2))).getMessage();
            assertTrue(m.contains("INT64") && m.contains("FLOAT32"), m);
        }
        assertThrows(IllegalArgumentException.class, () -> new Embedding(sn, 0, 3, gen));
        assertThrows(IllegalArgumentException.class, () -> new Embedding(sn, 3, 3, 3L, DType.FLOAT32, gen));
    }
}
