package dev.sinew.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Generator;
import dev.sinew.Tensor;
import org.junit.jupiter.api.Test;

/** {@link MaxPool2d}, {@link AvgPool2d}, {@link AdaptiveAvgPool2d} and {@link Dropout2d} by hand. */
class PoolingTest extends SinewTestBase {

    private Tensor grid(long h, long w) {
        double[] v = new double[(int) (h * w)];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        return sn.fromArray(v, 1, 1, h, w);
    }

    @Test
    void maxPoolByHand() {
        try (MaxPool2d pool = new MaxPool2d(2)) {
            Tensor x = grid(4, 4).requiresGrad(true);
            Tensor y = pool.forward(x);
            assertArrayEquals(new double[] {5, 7, 13, 15}, y.toDoubleArray());
            y.sum().backward();
            assertArrayEquals(new double[] {0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1}, x.grad().toDoubleArray());
            assertEquals("MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1), ceil_mode=False)",
                    pool.toString());
        }
    }

    @Test
    void ceilModeAddsAWindowThatStartsInside() {
        try (MaxPool2d floor = new MaxPool2d(2);
                MaxPool2d ceil = new MaxPool2d(new int[] {2}, null, new int[] {0}, new int[] {1}, true);
                AvgPool2d avgCeil = new AvgPool2d(new int[] {3}, new int[] {2}, new int[] {1}, true, false)) {
            Tensor x = grid(5, 5);
            assertArrayEquals(new long[] {1, 1, 2, 2}, floor.forward(x).dims());
            Tensor y = ceil.forward(x);
            assertArrayEquals(new long[] {1, 1, 3, 3}, y.dims());
            assertArrayEquals(new double[] {6, 8, 9, 16, 18, 19, 21, 23, 24}, y.toDoubleArray());
            // 5 + 2·1 − 3 = 4 → ceil(4/2) + 1 = 3, and the last window starts at 3 < 5 + 1: kept
            Tensor a = avgCeil.forward(x);
            assertArrayEquals(new long[] {1, 1, 3, 3}, a.dims());
            assertEquals((0 + 1 + 5 + 6) / 4.0, a.getDouble(0, 0, 0, 0), 1e-12); // padding excluded
        }
    }

    @Test
    void averagePoolCountsPaddingOnlyWhenAsked() {
        Tensor x = sn.ones(DType.FLOAT64, 1, 1, 2, 2);
        try (AvgPool2d incl = new AvgPool2d(new int[] {2}, new int[] {1}, new int[] {1}, false, true);
                AvgPool2d excl = new AvgPool2d(new int[] {2}, new int[] {1}, new int[] {1}, false, false)) {
            assertArrayEquals(new double[] {0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25}, incl.forward(x).toDoubleArray());
            assertArrayEquals(new double[] {1, 1, 1, 1, 1, 1, 1, 1, 1}, excl.forward(x).toDoubleArray());
        }
    }

    @Test
    void adaptiveAveragePool() {
        Tensor x = grid(4, 6).to(DType.FLOAT64);
        try (AdaptiveAvgPool2d global = new AdaptiveAvgPool2d(1); AdaptiveAvgPool2d odd = new AdaptiveAvgPool2d(3, 4)) {
            assertArrayEquals(new double[] {11.5}, global.forward(x).toDoubleArray(), 1e-12);
            // rows [0,2) [1,3) [2,4); columns [0,2) [1,3) [3,5) [4,6)
            Tensor y = odd.forward(x);
            assertArrayEquals(new long[] {1, 1, 3, 4}, y.dims());
            assertEquals((0 + 1 + 6 + 7) / 4.0, y.getDouble(0, 0, 0, 0), 1e-12);
            assertEquals((16 + 17 + 22 + 23) / 4.0, y.getDouble(0, 0, 2, 3), 1e-12);
        }
    }

    @Test
    void windowsLargerThanThePaddedInputAreNamed() {
        try (MaxPool2d pool = new MaxPool2d(5)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> pool.forward(sn.zeros(1, 2, 3, 8)));
            assertTrue(e.getMessage().contains("pooling window height 5 is larger than the padded input height 3"),
                    e.getMessage());
        }
        try (AvgPool2d pool = new AvgPool2d(new int[] {2, 6}, null, new int[] {1, 0}, false, true)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> pool.forward(sn.zeros(1, 2, 3, 5)));
            assertTrue(e.getMessage().contains("pooling window width 6 is larger than the padded input width 5"),
                    e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MaxPool2d(new int[] {3}, null, new int[] {2}, new int[] {1}, false));
        assertTrue(e.getMessage().contains("at most half the kernel"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MaxPool2d(0));
        assertTrue(e.getMessage().contains("kernel size must be >= 1"), e.getMessage());
    }

    @Test
    void dropout2dZeroesWholeChannels() {
        try (Dropout2d drop = new Dropout2d(0.5, new Generator(3))) {
            Tensor x = sn.ones(8, 16, 3, 3);
            Tensor y = drop.forward(x);
            double[] v = y.toDoubleArray();
            int zeros = 0;
            for (int ch = 0; ch < 8 * 16; ch++) {
                double first = v[ch * 9];
                assertTrue(first == 0 || first == 2, "kept channels are scaled by 1/(1-p): " + first);
                for (int k = 1; k < 9; k++) {
                    assertEquals(first, v[ch * 9 + k], "a channel is dropped or kept as a whole");
                }
                zeros += first == 0 ? 1 : 0;
            }
            assertTrue(zeros > 30 && zeros < 98, "about half the channels dropped, got " + zeros);
            drop.eval();
            assertTrue(drop.forward(x) == x, "identity in eval mode");
        }
    }
}
