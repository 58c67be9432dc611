package dev.sinew.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link BatchNorm2d}: state-dict names, train/eval statistics, momentum and its cumulative form. */
class BatchNorm2dTest extends SinewTestBase {

    /** Per-channel (mean, biased variance, unbiased variance) of [N, C, H, W] data. */
    private static double[][] stats(double[] v, int n, int c, int hw) {
        double[][] out = new double[3][c];
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            for (int b = 0; b < n; b++) {
                for (int k = 0; k < hw; k++) {
                    sum += v[(b * c + ch) * hw + k];
                }
            }
            double mean = sum / (n * hw);
            double sq = 0;
            for (int b = 0; b < n; b++) {
                for (int k = 0; k < hw; k++) {
                    double d = v[(b * c + ch) * hw + k] - mean;
                    sq += d * d;
                }
            }
            out[0][ch] = mean;
            out[1][ch] = sq / (n * hw);
            out[2][ch] = sq / (n * hw - 1);
        }
        return out;
    }

    @Test
    void stateDictHasPyTorchsNames() {
        try (BatchNorm2d bn = new BatchNorm2d(sn, 3)) {
            assertEquals(List.of("weight", "bias", "running_mean", "running_var", "num_batches_tracked"),
                    new ArrayList<>(bn.stateDict().keySet()));
            assertEquals(List.of("weight", "bias"), new ArrayList<>(bn.namedParameters().keySet()));
            Tensor nbt = bn.stateDict().get("num_batches_tracked");
            assertEquals(DType.INT64, nbt.dtype());
            assertEquals(0, nbt.rank());
            assertArrayEquals(new double[] {1, 1, 1}, bn.weight().toDoubleArray());
            assertArrayEquals(new double[] {0, 0, 0}, bn.bias().toDoubleArray());
            assertArrayEquals(new double[] {0, 0, 0}, bn.runningMean().toDoubleArray());
            assertArrayEquals(new double[] {1, 1, 1}, bn.runningVar().toDoubleArray());
            assertEquals("BatchNorm2d(3, eps=1.0E-5, momentum=0.1, affine=True, track_running_stats=True)", bn.toString());
        }
        try (BatchNorm2d bare = new BatchNorm2d(sn, 2, 1e-5, 0.1, false, false, DType.FLOAT32)) {
            assertTrue(bare.stateDict().isEmpty());
            assertNull(bare.runningMean());
            assertEquals(-1, bare.numBatchesTracked());
        }
    }

    @Test
    void trainingNormalisesWithBatchStatisticsAndUpdatesRunningOnes() {
        try (BatchNorm2d bn = new BatchNorm2d(sn, 2, 1e-5, 0.1, true, true, DType.FLOAT64)) {
            Tensor x = sn.normal(gen, 3, 2, DType.FLOAT64, 4, 2, 3, 3);
            double[][] s = stats(x.toDoubleArray(), 4, 2, 9);
            Tensor y = bn.forward(x);
            double[][] ys = stats(y.toDoubleArray(), 4, 2, 9);
            for (int ch = 0; ch < 2; ch++) {
                assertEquals(0, ys[0][ch], 1e-12, "normalised mean");
                assertEquals(s[1][ch] / (s[1][ch] + 1e-5), ys[1][ch], 1e-12, "normalised (biased) variance");
            }
            assertEquals(1, bn.numBatchesTracked());
            double[] rm = bn.runningMean().toDoubleArray();
            double[] rv = bn.runningVar().toDoubleArray();
            for (int ch = 0; ch < 2; ch++) {
                assertEquals(0.1 * s[0][ch], rm[ch], 1e-12, "running mean");
                assertEquals(0.9 + 0.1 * s[2][ch], rv[ch], 1e-12, "running variance uses the unbiased estimate");
            }
            bn.eval();
            Tensor z = bn.forward(x);
            double[] xv = x.toDoubleArray();
            double[] zv = z.toDoubleArray();
            for (int i = 0; i < xv.length; i++) {
                int ch = (i / 9) % 2;
                assertEquals((xv[i] - rm[ch]) / Math.sqrt(rv[ch] + 1e-5), zv[i], 1e-12, "eval uses running statistics");
            }
            assertEquals(1, bn.numBatchesTracked(), "eval does not count batches");
        }
    }

    @Test
    void nullMomentumIsACumulativeAverage() {
        try (BatchNorm2d bn = new BatchNorm2d(sn, 1, 1e-5, null, true, true, DType.FLOAT64)) {
            Tensor a = sn.normal(gen, 1, 1, DType.FLOAT64, 2, 1, 2, 2);
            Tensor b = sn.normal(gen, -2, 1, DType.FLOAT64, 2, 1, 2, 2);
            double ma = stats(a.toDoubleArray(), 2, 1, 4)[0][0];
            double mb = stats(b.toDoubleArray(), 2, 1, 4)[0][0];
            bn.forward(a);
            bn.forward(b);
            assertEquals(2, bn.numBatchesTracked());
            assertEquals((ma + mb) / 2, bn.runningMean().item(), 1e-12);
            assertTrue(bn.toString().contains("momentum=None"));
        }
    }

    @Test
    void withoutTrackingEvalUsesBatchStatistics() {
        try (BatchNorm2d bn = new BatchNorm2d(sn, 2, 1e-5, 0.1, false, false, DType.FLOAT64)) {
            bn.eval();
            Tensor y = bn.forward(sn.normal(gen, 5, 3, DType.FLOAT64, 3, 2, 2, 2));
            double[][] ys = stats(y.toDoubleArray(), 3, 2, 4);
            assertEquals(0, ys[0][0], 1e-12);
            assertEquals(0, ys[0][1], 1e-12);
        }
    }

    @Test
    void badInputsAreNamed() {
        try (BatchNorm2d bn = new BatchNorm2d(sn, 3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> bn.forward(sn.zeros(2, 4, 3, 3)));
            assertTrue(e.getMessage().contains("has 4 channels, expected 3"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> bn.forward(sn.zeros(1, 3, 1, 1)));
            assertTrue(e.getMessage().contains("more than 1 value per channel"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> bn.forward(sn.zeros(2, 3, 4)));
            assertTrue(e.getMessage().contains("[N, C, H, W]"), e.getMessage());
        }
    }
}
