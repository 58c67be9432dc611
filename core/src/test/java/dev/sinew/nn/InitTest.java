package dev.sinew.nn;

import static dev.sinew.nn.Golden.num;
import static dev.sinew.nn.Golden.obj;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Generator;
import dev.sinew.Tensor;
import dev.sinew.nn.Init.FanMode;
import dev.sinew.nn.Init.Nonlinearity;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Initialisers: gains and fans against {@code torch.nn.init}, and the distributions they draw from
 * (bound and standard deviation of large samples; PyTorch's RNG differs, so values cannot match).
 */
class InitTest extends SinewTestBase {
    private static final Map<String, Object> G = obj(Golden.load("nn_golden.json"), "init");

    @Test
    void gainsMatchPyTorch() {
        Map<String, Object> g = obj(G, "gains");
        assertEquals(num(g, "linear"), Init.gain(Nonlinearity.LINEAR), 1e-15);
        assertEquals(num(g, "sigmoid"), Init.gain(Nonlinearity.SIGMOID), 1e-15);
        assertEquals(num(g, "tanh"), Init.gain(Nonlinearity.TANH), 1e-15);
        assertEquals(num(g, "relu"), Init.gain(Nonlinearity.RELU), 1e-15);
        assertEquals(num(g, "leaky_relu"), Init.gain(Nonlinearity.LEAKY_RELU), 1e-15);
        assertEquals(num(g, "leaky_relu_0.2"), Init.gain(Nonlinearity.LEAKY_RELU, 0.2), 1e-15);
        assertEquals(num(g, "selu"), Init.gain(Nonlinearity.SELU), 1e-15);
        assertEquals(1.0, Init.gain(Nonlinearity.CONV2D));
    }

    @Test
    void fansMatchPyTorch() {
        for (var e : obj(G, "fans").entrySet()) {
            long[] shape = Golden.shape(e.getValue());
            Init.Fans f = Init.fans(shape);
            assertEquals((long) num(e.getValue(), "fan_in"), f.fanIn(), e.getKey());
            assertEquals((long) num(e.getValue(), "fan_out"), f.fanOut(), e.getKey());
        }
        var ex = assertThrows(IllegalArgumentException.class, () -> Init.fans(5));
        assertTrue(ex.getMessage().contains("rank >= 2"), ex.getMessage());
    }

    /** Fills a large tensor of {@code shape} (written to the golden as a key) and checks its spread. */
    private void checkSpread(String shapeKey, String goldenKey, boolean uniform, Consumer<Tensor> init) {
        Map<String, Object> f = obj(obj(G, "fans"), shapeKey);
        double expected = num(f, goldenKey); // a bound (uniform) or a std (normal)
        // The fans depend on the whole shape, so sample that exact shape repeatedly and pool the values.
        long[] shape = Golden.shape(f);
        double max = 0;
        double sum = 0;
        double sumSq = 0;
        long n = 0;
        try (Tensor t = sn.zeros(DType.FLOAT64, shape).detachFromScope()) {
            while (n < 40_000) {
                assertSame(t, returning(init, t));
                for (double v : t.toDoubleArray()) {
                    max = Math.max(max, Math.abs(v));
                    sum += v;
                    sumSq += v * v;
                    n++;
                }
            }
        }
        double std = Math.sqrt(sumSq / n - (sum / n) * (sum / n));
        double wantStd = uniform ? expected / Math.sqrt(3) : expected;
        assertEquals(0.0, sum / n, wantStd * 0.03, goldenKey + " mean");
        assertEquals(wantStd, std, wantStd * 0.02, goldenKey + " std");
        if (uniform) {
            assertTrue(max <= expected, goldenKey + ": max " + max + " exceeds the bound " + expected);
            assertTrue(max > expected * 0.99, goldenKey + ": bound not reached");
        }
    }

    private static Tensor returning(Consumer<Tensor> init, Tensor t) {
        init.accept(t);
        return t;
    }

    @Test
    void distributionsHaveTorchsBoundsAndStds() {
        Generator g = new Generator(9);
        checkSpread("5x3", "xavier_uniform_bound_gain2", true, t -> Init.xavierUniform(t, 2.0, g));
        checkSpread("8x4x3x3", "xavier_normal_std_gain1", false, t -> Init.xavierNormal(t, 1.0, g));
        checkSpread("6x2x5", "kaiming_uniform_bound_relu_fanin", true,
                t -> Init.kaimingUniform(t, 0, FanMode.FAN_IN, Nonlinearity.RELU, g));
        checkSpread("8x4x3x3", "kaiming_normal_std_relu_fanout", false,
                t -> Init.kaimingNormal(t, 0, FanMode.FAN_OUT, Nonlinearity.RELU, g));
        checkSpread("5x3", "kaiming_normal_std_leaky0.1_fanin", false,
                t -> Init.kaimingNormal(t, 0.1, FanMode.FAN_IN, Nonlinearity.LEAKY_RELU, g));
        checkSpread("6x2x5", "kaiming_uniform_bound_tanh_fanout", true,
                t -> Init.kaimingUniform(t, 0, FanMode.FAN_OUT, Nonlinearity.TANH, g));
        // Linear's default is kaiming_uniform_(a = sqrt(5)).
        checkSpread("5x3", "linear_default_bound", true,
                t -> Init.kaimingUniform(t, Math.sqrt(5), FanMode.FAN_IN, Nonlinearity.LEAKY_RELU, g));
    }

    @Test
    void initialisesParametersInPlaceWithoutRecording() {
        try (Linear lin = new Linear(sn, 3, 4, gen)) {
            Tensor w = lin.weight();
            Init.xavierUniform(w, 1.0, new Generator(1));
            assertTrue(w.requiresGrad());
            assertEquals(null, w.gradFnName(), "initialisation must not put the parameter on the tape");
            Init.zeros(lin.bias());
            assertArrayEquals(new float[4], lin.bias().toFloatArray());
            Init.constant(lin.bias(), 0.5);
            assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f, 0.5f}, lin.bias().toFloatArray());
            // Same generator state, same values: reproducible across runs and backends.
            double[] first = Init.kaimingNormal(w, new Generator(5)).toDoubleArray();
            assertArrayEquals(first, Init.kaimingNormal(w, new Generator(5)).toDoubleArray());
        }
        var e = assertThrows(IllegalArgumentException.class, () -> Init.uniform(sn.zeros(DType.INT64, 3), 0, 1, gen));
        assertTrue(e.getMessage().contains("floating"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Init.normal(sn.zeros(3), 0, -1, gen));
        assertThrows(IllegalArgumentException.class, () -> Init.xavierUniform(sn.zeros(3), 1, gen));
    }
}
