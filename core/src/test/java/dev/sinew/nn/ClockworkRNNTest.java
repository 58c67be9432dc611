package dev.sinew.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
 * {@link ClockworkRNN}: parameter count and storage of the block-upper-triangular recurrence, modules
 * that do not tick keep their state exactly, slow modules never read faster ones, the clock runs on
 * across chunks (its float64 gradient check is in the gradient conformance suite).
 */
class ClockworkRNNTest extends SinewTestBase {
    private static final Tolerance F64 = new Tolerance(1e-13, 1e-12);

    @Test
    void parameterCountIsHalfTheRecurrentMatrix() {
        long k = 3;
        int g = 4;
        try (ClockworkRNN cw = new ClockworkRNN(sn, 5, k, g, gen)) {
            long n = k * g;
            long hidden = 0;
            for (var e : cw.namedParameters().entrySet()) {
                if (e.getKey().startsWith("weight_hh_")) {
                    hidden += e.getValue().numel();
                }
            }
            assertEquals(k * k * g * (g + 1) / 2, hidden, "hidden-to-hidden parameters k²·g(g+1)/2");
            assertEquals(k * k * g * (g + 1) / 2 + n * 5 + n, cw.numParameters());
            assertEquals(List.of("weight_ih", "bias", "weight_hh_0", "weight_hh_1", "weight_hh_2", "weight_hh_3"),
                    new ArrayList<>(cw.stateDict().keySet()));
            assertArrayEquals(new long[] {3, 12}, cw.stateDict().get("weight_hh_0").dims()); // reads every module
            assertArrayEquals(new long[] {3, 3}, cw.stateDict().get("weight_hh_3").dims());  // reads only itself
            assertArrayEquals(new long[] {1, 2, 4, 8}, cw.periods());
        }
    }

    /** A module whose period does not divide t keeps its state bit for bit; one that ticks changes. */
    @Test
    void modulesThatDoNotTickKeepTheirState() {
        long k = 2;
        int g = 3;
        try (ClockworkRNN cw = new ClockworkRNN(sn, 2, k, g, null, false, DType.FLOAT64, gen)) {
            Tensor x = sn.normal(gen, 0, 1, DType.FLOAT64, 9, 2, 2);
            Tensor y = cw.forward(x);                                           // [T, B, n]
            int ticks = 0;
            for (int t = 1; t < 9; t++) {
                for (int i = 0; i < g; i++) {
                    double[] now = y.slice(0, t, t + 1).slice(2, i * k, (i + 1) * k).toDoubleArray();
                    double[] before = y.slice(0, t - 1, t).slice(2, i * k, (i + 1) * k).toDoubleArray();
                    if (cw.updates(i, t)) {
                        ticks++;
                        assertTrue(!java.util.Arrays.equals(now, before), "module " + i + " ticks at " + t);
                    } else {
                        assertArrayEquals(before, now, "module " + i + " (period " + cw.periods()[i]
                                + ") must not change at step " + t);
                    }
                }
            }
            assertEquals(8 + 4 + 2, ticks); // periods 1, 2, 4 over steps 1..8
        }
    }

    /** Module i reads only modules j ≥ i: changing a fast module's state cannot reach a slower one. */
    @Test
    void slowModulesNeverReadFastOnes() {
        try (ClockworkRNN cw = new ClockworkRNN(sn, 2, 2, 3, null, false, DType.FLOAT64, gen)) {
            Tensor x = sn.normal(gen, 0, 1, DType.FLOAT64, 1, 1, 2);            // one step, every module ticks
            Tensor h0 = sn.normal(gen, 0, 1, DType.FLOAT64, 1, 1, 6);
            Tensor h1 = h0.copy();
            try (var _ = sn.noGrad()) {
                h1.slice(2, 0, 2).copy_(sn.full(5.0, DType.FLOAT64, 1, 1, 2)); // perturb module 0 (fastest)
            }
            double[] a = cw.forward(x, h0, 0).output().toDoubleArray();
            double[] b = cw.forward(x, h1, 0).output().toDoubleArray();
            assertNotEquals(a[0], b[0], "module 0 reads itself");
            for (int u = 2; u < 6; u++) {
                assertEquals(a[u], b[u], "unit " + u + " of a slower module must not read module 0");
            }
        }
    }

    /** Two chunks with the global start step equal one run (what truncated BPTT relies on). */
    @Test
    void theClockRunsOnAcrossChunks() {
        try (ClockworkRNN cw = new ClockworkRNN(sn, 2, 2, 3, new long[] {1, 3, 5}, true, DType.FLOAT64, gen)) {
            Tensor x = sn.normal(gen, 0, 1, DType.FLOAT64, 2, 8, 2);             // batch-first [B, T, I]
            RnnOutput whole = cw.forward(x, null, 0);
            RnnOutput first = cw.forward(x.slice(1, 0, 3), null, 0);
            RnnOutput second = cw.forward(x.slice(1, 3, 8), first.hN(), 3);
            F64.assertClose("second chunk", whole.output().slice(1, 3, 8).toDoubleArray(),
                    second.output().toDoubleArray());
            F64.assertClose("final state", whole.hN().toDoubleArray(), second.hN().toDoubleArray());
            assertArrayEquals(new long[] {1, 2, 6}, whole.hN().dims());
        }
    }

    @Test
    void badArgumentsAreClearErrors() {
        String m = assertThrows(IllegalArgumentException.class,
                () -> new ClockworkRNN(sn, 2, 2, 3, new long[] {1, 4, 2}, false, DType.FLOAT32, gen)).getMessage();
        assertTrue(m.contains("strictly increasing"), m);
        assertThrows(IllegalArgumentException.class,
                () -> new ClockworkRNN(sn, 2, 2, 3, new long[] {1, 2}, false, DType.FLOAT32, gen));
        try (ClockworkRNN cw = new ClockworkRNN(sn, 2, 2, 3, gen)) {
            m = assertThrows(IllegalArgumentException.class, () -> cw.forward(sn.zeros(4, 2, 3))).getMessage();
            assertTrue(m.contains("[4, 2, 3]") && m.contains("input_size 2"), m);
            m = assertThrows(IllegalArgumentException.class, () -> cw.forward(sn.zeros(4, 2, 2), sn.zeros(1, 2, 5), 0))
                    .getMessage();
            assertTrue(m.contains("h0 has shape [1, 2, 5], expected [1, 2, 6]"), m);
        }
    }
}
