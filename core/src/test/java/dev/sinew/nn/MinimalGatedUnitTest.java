package dev.sinew.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Functional.RnnOutput;
import dev.sinew.Tensor;
import dev.sinew.testing.Tolerance;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link MinimalGatedUnit}: the seed's equations computed by hand, names and shapes, layouts and
 * variable lengths (its float64 gradient check is in the gradient conformance suite).
 */
class MinimalGatedUnitTest extends SinewTestBase {
    private static final Tolerance F64 = new Tolerance(1e-13, 1e-12);

    private static double sigmoid(double a) {
        return 1 / (1 + Math.exp(-a));
    }

    /** Two steps of a 1-unit MGU against h~ = tanh(Wx + Uh + b), Γ = σ(Mx + Oh + a), h' = Γh~ + (1−Γ)h. */
    @Test
    void followsTheSeedsEquations() {
        try (MinimalGatedUnit mgu = new MinimalGatedUnit(sn, RnnOptions.of(2, 1).dtype(DType.FLOAT64), gen)) {
            double[] wih = mgu.weights().get(0).toDoubleArray(); // [2, 2] = [M; W]
            double[] whh = mgu.weights().get(1).toDoubleArray(); // [2, 1] = [O; U]
            double[] bias = mgu.weights().get(2).toDoubleArray(); // [a, b]
            double[] x = {0.3, -0.7, 1.1, 0.4};                   // [T=2, B=1, I=2]
            double h = 0.25;
            RnnOutput o = mgu.forward(sn.fromArray(x, 2, 1, 2), sn.fromArray(new double[] {h}, 1, 1, 1));
            double[] y = o.output().toDoubleArray();
            for (int t = 0; t < 2; t++) {
                double x0 = x[2 * t];
                double x1 = x[2 * t + 1];
                double gate = sigmoid(wih[0] * x0 + wih[1] * x1 + whh[0] * h + bias[0]);
                double cand = Math.tanh(wih[2] * x0 + wih[3] * x1 + whh[1] * h + bias[1]);
                h = gate * cand + (1 - gate) * h;
                assertEquals(h, y[t], 1e-14, "step " + t);
            }
            assertEquals(h, o.hN().item(), 1e-14);
        }
    }

    @Test
    void namesShapesAndLayouts() {
        RnnOptions o = RnnOptions.of(3, 4).numLayers(2).bidirectional(true).dtype(DType.FLOAT64);
        try (MinimalGatedUnit tm = new MinimalGatedUnit(sn, o, new dev.sinew.Generator(4));
                MinimalGatedUnit bf = new MinimalGatedUnit(sn, o.batchFirst(true), new dev.sinew.Generator(4))) {
            assertEquals(List.of("weight_ih_l0", "weight_hh_l0", "bias_l0", "weight_ih_l0_reverse",
                    "weight_hh_l0_reverse", "bias_l0_reverse", "weight_ih_l1", "weight_hh_l1", "bias_l1",
                    "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_l1_reverse"),
                    new ArrayList<>(tm.stateDict().keySet()));
            assertArrayEquals(new long[] {8, 8}, tm.stateDict().get("weight_ih_l1").dims());
            assertEquals(2 * (8 * 3 + 8 * 4 + 8) + 2 * (8 * 8 + 8 * 4 + 8), tm.numParameters());
            Tensor x = sn.normal(gen, 0, 1, DType.FLOAT64, 5, 3, 3);
            Tensor h0 = sn.normal(gen, 0, 1, DType.FLOAT64, 4, 3, 4);
            long[] len = {5, 1, 3};
            RnnOutput a = tm.forward(x, h0, len);
            RnnOutput b = bf.forward(x.transpose(0, 1), h0, len);
            assertArrayEquals(new long[] {5, 3, 8}, a.output().dims());
            assertArrayEquals(new long[] {4, 3, 4}, a.hN().dims());
            F64.assertClose("batch-first", a.output().toDoubleArray(), b.output().transpose(0, 1).toDoubleArray());
            // each sequence as if alone, zeros past its end
            for (int i = 0; i < 3; i++) {
                RnnOutput alone = tm.forward(x.slice(0, 0, len[i]).slice(1, i, i + 1), h0.slice(1, i, i + 1));
                F64.assertClose("sequence " + i, alone.output().toDoubleArray(),
                        a.output().slice(0, 0, len[i]).slice(1, i, i + 1).toDoubleArray());
                F64.assertClose("sequence " + i + " hN", alone.hN().toDoubleArray(),
                        a.hN().slice(1, i, i + 1).toDoubleArray());
            }
            for (double v : a.output().slice(0, 1, 5).slice(1, 1, 2).toDoubleArray()) {
                assertEquals(0.0, v);
            }
            String m = assertThrows(IllegalArgumentException.class, () -> tm.forward(x, h0.slice(0, 0, 2)))
                    .getMessage();
            assertTrue(m.contains("h0 has shape [2, 3, 4], expected [4, 3, 4]"), m);
            m = assertThrows(IllegalArgumentException.class, () -> tm.forward(x, null, new long[] {0, 1, 1}))
                    .getMessage();
            assertTrue(m.contains("length 0"), m);
        }
        assertThrows(IllegalArgumentException.class, () -> new MinimalGatedUnit(sn, RnnOptions.of(3, 4).projSize(2), gen));
    }
}
