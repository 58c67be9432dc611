package dev.sinew.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Functional;
import dev.sinew.Tensor;
import dev.sinew.spi.FusedOps.Conv2dParams;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Conv2d}: parameters, initialisation, padding rules, unbatched input and shape errors. */
class Conv2dTest extends SinewTestBase {
    private static final int[] ONE = {1};

    @Test
    void parametersHavePyTorchsShapesNamesAndInitialisation() {
        try (Conv2d conv = new Conv2d(sn, 6, 16, new int[] {5, 3}, ONE, new int[] {0}, ONE, 2, true, DType.FLOAT32,
                gen)) {
            assertEquals(List.of("weight", "bias"), new ArrayList<>(conv.namedParameters().keySet()));
            assertArrayEquals(new long[] {16, 3, 5, 3}, conv.weight().dims());
            assertArrayEquals(new long[] {16}, conv.bias().dims());
            double bound = 1 / Math.sqrt(3 * 5 * 3); // fan_in = C_in/groups · kH · kW
            for (Tensor p : conv.parameters()) {
                double max = 0;
                double sum = 0;
                for (double v : p.toDoubleArray()) {
                    assertTrue(Math.abs(v) <= bound, "init value " + v + " outside ±" + bound);
                    max = Math.max(max, Math.abs(v));
                    sum += v;
                }
                assertTrue(max > bound * 0.7, "values should fill U(-b, b), largest |v| " + max);
                assertTrue(Math.abs(sum / p.numel()) < bound * 0.5, "mean near 0");
            }
            assertEquals(DType.FLOAT32, conv.weight().dtype());
            assertEquals("Conv2d(6, 16, kernel_size=(5, 3), stride=(1, 1), groups=2)", conv.toString());
        }
        try (Conv2d noBias = new Conv2d(sn, 2, 4, new int[] {3}, ONE, "same", ONE, 1, false, DType.FLOAT64, gen)) {
            assertNull(noBias.bias());
            assertEquals(List.of("weight"), new ArrayList<>(noBias.namedParameters().keySet()));
            assertEquals("Conv2d(2, 4, kernel_size=(3, 3), stride=(1, 1), padding='same', bias=False)",
                    noBias.toString());
        }
    }

    @Test
    void samePaddingKeepsTheSizeWithTheExtraRowAtTheBottomRight() {
        try (Conv2d even = new Conv2d(sn, 1, 1, new int[] {4}, ONE, "same", ONE, 1, true, DType.FLOAT32, gen);
                Conv2d dilated = new Conv2d(sn, 1, 1, new int[] {3, 2}, ONE, "same", new int[] {2, 3}, 1, true,
                        DType.FLOAT32, gen)) {
            Conv2dParams p = even.params();
            assertArrayEquals(new int[] {1, 2, 1, 2}, new int[] {p.padTop(), p.padBottom(), p.padLeft(), p.padRight()});
            Conv2dParams q = dilated.params(); // H: 2·(3−1) = 4 → 2 + 2; W: 3·(2−1) = 3 → 1 + 2
            assertArrayEquals(new int[] {2, 2, 1, 2}, new int[] {q.padTop(), q.padBottom(), q.padLeft(), q.padRight()});
            Tensor x = sn.randn(gen, DType.FLOAT32, 2, 1, 7, 6);
            assertArrayEquals(new long[] {2, 1, 7, 6}, even.forward(x).dims());
            assertArrayEquals(new long[] {2, 1, 7, 6}, dilated.forward(x).dims());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Conv2d(sn, 1, 1, new int[] {3}, new int[] {2}, "same", ONE, 1, true, DType.FLOAT32, gen));
        assertTrue(e.getMessage().contains("strided"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Conv2d(sn, 1, 1, new int[] {3}, ONE, "full", ONE, 1, true, DType.FLOAT32, gen));
        assertTrue(e.getMessage().contains("\"full\""), e.getMessage());
        try (Conv2d valid = new Conv2d(sn, 1, 2, new int[] {3}, ONE, "valid", ONE, 1, true, DType.FLOAT32, gen)) {
            assertArrayEquals(new long[] {1, 2, 3, 4}, valid.forward(sn.zeros(1, 1, 5, 6)).dims());
        }
    }

    @Test
    void outputSizesFollowPyTorch() {
        Tensor x = sn.randn(gen, DType.FLOAT32, 2, 3, 11, 10);
        try (Conv2d a = new Conv2d(sn, 3, 4, 3, 2, 1, gen);
                Conv2d b = new Conv2d(sn, 3, 4, new int[] {3}, new int[] {3}, new int[] {0, 1, 2, 0}, new int[] {2}, 1,
                        true, DType.FLOAT32, gen)) {
            assertArrayEquals(new long[] {2, 4, 6, 5}, a.forward(x).dims());
            // H: (11 + 1 − 5)/3 + 1 = 3; W: (10 + 2 − 5)/3 + 1 = 3
            assertArrayEquals(new long[] {2, 4, 3, 3}, b.forward(x).dims());
        }
    }

    @Test
    void unbatchedInputGivesUnbatchedOutput() {
        try (Conv2d conv = new Conv2d(sn, 2, 3, 3, 1, 1, gen)) {
            Tensor x = sn.randn(gen, DType.FLOAT32, 2, 5, 5);
            Tensor y = conv.forward(x);
            assertArrayEquals(new long[] {3, 5, 5}, y.dims());
            Tensor yb = conv.forward(x.unsqueeze(0));
            assertArrayEquals(yb.squeeze(0).toFloatArray(), y.toFloatArray());
        }
    }

    @Test
    void shapeErrorsNameTheDimension() {
        try (Conv2d conv = new Conv2d(sn, 4, 16, 3, gen)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> conv.forward(sn.zeros(8, 3, 32, 32)));
            assertEquals("conv2d: input [8, 3, 32, 32] has 3 channels, weight [16, 4, 3, 3] expects 4", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> conv.forward(sn.zeros(4, 32, 32, 1, 1)));
            assertTrue(e.getMessage().contains("[N, C, H, W]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> conv.forward(sn.zeros(DType.FLOAT64, 1, 4, 5, 5)));
            assertTrue(e.getMessage().contains("FLOAT64"), e.getMessage());
        }
        try (Conv2d big = new Conv2d(sn, 1, 1, 5, gen)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> big.forward(sn.zeros(1, 1, 3, 7)));
            assertTrue(e.getMessage().startsWith("conv2d: input height 3") && e.getMessage().contains("kernel height 5"),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> big.forward(sn.zeros(1, 1, 7, 4)));
            assertTrue(e.getMessage().startsWith("conv2d: input width 4"), e.getMessage());
        }
        try (Conv2d grouped = new Conv2d(sn, 4, 6, new int[] {1}, ONE, new int[] {0}, ONE, 2, true, DType.FLOAT32,
                gen)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> grouped.forward(sn.zeros(1, 6, 3, 3)));
            assertTrue(e.getMessage().contains("has 6 channels") && e.getMessage().contains("expects 4 (2 per group x 2"),
                    e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Conv2d(sn, 3, 6, new int[] {3}, ONE, new int[] {0}, ONE, 2, true, DType.FLOAT32, gen));
        assertTrue(e.getMessage().contains("groups 2 does not divide in_channels 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Conv2d(sn, 4, 6, new int[] {3}, ONE, new int[] {0}, ONE, 4, true, DType.FLOAT32, gen));
        assertTrue(e.getMessage().contains("groups 4 does not divide out_channels 6"), e.getMessage());
        Tensor x = sn.zeros(1, 3, 4, 4);
        Tensor w = sn.zeros(4, 1, 1, 1);
        e = assertThrows(IllegalArgumentException.class,
                () -> Functional.conv2d(x, w, null, ONE, new int[] {0}, ONE, 2));
        assertTrue(e.getMessage().contains("groups 2 does not divide the 3 input channels"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Functional.conv2d(x, sn.zeros(4, 3, 1, 1), sn.zeros(3), ONE, new int[] {0}, ONE, 1));
        assertTrue(e.getMessage().contains("bias [3] must be [4]"), e.getMessage());
    }

    @Test
    void gradientsReachOnlyWhatRequiresThem() {
        try (Conv2d conv = new Conv2d(sn, 2, 3, 3, 1, 1, gen)) {
            Tensor x = sn.randn(gen, DType.FLOAT32, 2, 2, 5, 5);
            conv.forward(x).sum().backward();
            assertNull(x.grad());
            // dL/db = N·OH·OW per channel when L is the plain sum
            for (double v : conv.bias().grad().toDoubleArray()) {
                assertEquals(2 * 5 * 5, v, 1e-4);
            }
            conv.zeroGrad();
            x.requiresGrad(true);
            conv.bias().requiresGrad(false);
            conv.forward(x).sum().backward();
            assertArrayEquals(x.dims(), x.grad().dims());
            assertArrayEquals(conv.weight().dims(), conv.weight().grad().dims());
            assertNull(conv.bias().grad());
        }
    }
}
