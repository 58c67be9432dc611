package dev.sinew.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonObject;
import dev.sinew.DType;
import dev.sinew.Functional;
import dev.sinew.Generator;
import dev.sinew.NoGrad;
import dev.sinew.Scope;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.nn.AdaptiveAvgPool2d;
import dev.sinew.nn.AvgPool2d;
import dev.sinew.nn.BatchNorm2d;
import dev.sinew.nn.Conv2d;
import dev.sinew.nn.MaxPool2d;
import dev.sinew.nn.Module;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

/**
 * Convolution, pooling and batch norm against PyTorch 1.13, from the safetensors fixtures written
 * by {@code core/src/test/python/make_golden_conv.py}: 38 Conv2d configurations (forward, and input,
 * weight and bias gradients for a given upstream gradient), max/average/adaptive pooling (forward
 * and input gradient), and BatchNorm2d (training output and gradients, running statistics after one
 * and two steps, evaluation output). Run by any backend: subclasses say which with
 * {@link #createSinew()}.
 *
 * <p>Every case runs in FLOAT64 and in FLOAT32, on the same inputs (they were drawn as float32, so
 * they are exact in both), against PyTorch's float64 results. The error of an element is
 * {@code |actual − expected| / max(|expected|, 0.01·max|expected|)} (the floor keeps elements that
 * are tiny through cancellation from being judged on their own scale) and must be at most
 * {@link #relativeTolerance} — 1e-10 in FLOAT64, 1e-4 in FLOAT32.
 *
 * <p>Lifecycle: the fixtures are opened once per class; a context is created per test factory; each
 * case runs in its own scope and must leave no live buffer behind.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class ConvGoldenConformance {
    private static final double FLOOR = 1e-2;

    private GoldenFile conv;
    private GoldenFile pool;
    private GoldenFile bn;
    protected Sinew sn;

    /** The context under test; the suite closes it. */
    protected abstract Sinew createSinew();

    /** The largest relative error allowed for results computed in {@code dt}. */
    protected double relativeTolerance(DType dt) {
        return dt == DType.FLOAT64 ? 1e-10 : 1e-4;
    }

    @BeforeAll
    final void openFixtures() {
        conv = GoldenFile.open("/golden/conv/conv2d.safetensors");
        pool = GoldenFile.open("/golden/conv/pool2d.safetensors");
        bn = GoldenFile.open("/golden/conv/batchnorm2d.safetensors");
    }

    @AfterAll
    final void closeFixtures() {
        for (GoldenFile f : new GoldenFile[] {conv, pool, bn}) {
            if (f != null) {
                f.close();
            }
        }
    }

    @BeforeEach
    final void open() {
        sn = createSinew();
    }

    @AfterEach
    final void closeAndCheckLeaks() {
        long live = sn.backend().liveBuffers();
        sn.close();
        assertEquals(0, live, "live buffers left after the test");
    }

    private static final DType[] DTYPES = {DType.FLOAT64, DType.FLOAT32};

    /** One dynamic test per case and dtype, each in its own scope, each checked for leaks. */
    private Stream<DynamicTest> each(GoldenFile f, String prefix, CaseBody body) {
        List<DynamicTest> tests = new ArrayList<>();
        for (String c : f.cases()) {
            if (!c.startsWith(prefix)) {
                continue;
            }
            for (DType dt : DTYPES) {
                tests.add(DynamicTest.dynamicTest(c + " " + dt, () -> {
                    long before = sn.backend().liveBuffers();
                    try (Scope s = sn.scope()) {
                        body.run(f, c, f.meta(c), dt);
                    }
                    assertEquals(before, sn.backend().liveBuffers(), c + " " + dt + ": live buffers after the case");
                }));
            }
        }
        if (tests.isEmpty()) {
            fail("no golden cases with prefix '" + prefix + "'");
        }
        return tests.stream();
    }

    @FunctionalInterface
    private interface CaseBody {
        void run(GoldenFile f, String name, JsonObject meta, DType dt);
    }

    // ---- conv2d ------------------------------------------------------------------------------

    /** {@code Functional.conv2d} (numeric or string padding), gradients to input, weight and bias. */
    @TestFactory
    Stream<DynamicTest> conv2dFunctional() {
        return each(conv, "", (f, c, m, dt) -> {
            Tensor x = f.load(sn, c + ".x", dt).requiresGrad(true);
            Tensor w = f.load(sn, c + ".weight", dt).requiresGrad(true);
            Tensor b = f.has(c + ".bias") ? f.load(sn, c + ".bias", dt).requiresGrad(true) : null;
            int[] stride = GoldenFile.ints(m.get("stride"));
            int[] dilation = GoldenFile.ints(m.get("dilation"));
            int groups = m.get("groups").getAsInt();
            Tensor y = m.get("padding").isJsonPrimitive()
                    ? Functional.conv2d(x, w, b, stride, m.get("padding").getAsString(), dilation, groups)
                    : Functional.conv2d(x, w, b, stride, GoldenFile.ints(m.get("padding")), dilation, groups);
            check(f, c, "y", y, dt);
            y.backward(f.load(sn, c + ".dy", dt));
            check(f, c, "dx", x.grad(), dt);
            check(f, c, "dweight", w.grad(), dt);
            if (b != null) {
                check(f, c, "dbias", b.grad(), dt);
            }
        });
    }

    /**
     * The same cases through {@code nn.Conv2d} with the fixture's weights loaded, input not requiring
     * grad (the first layer of a network): only the weight and bias gradients are checked.
     */
    @TestFactory
    Stream<DynamicTest> conv2dModule() {
        return each(conv, "", (f, c, m, dt) -> {
            long[] ws = f.shape(c + ".weight");
            int groups = m.get("groups").getAsInt();
            boolean bias = m.get("bias").getAsBoolean();
            int[] kernel = {(int) ws[2], (int) ws[3]};
            int[] stride = GoldenFile.ints(m.get("stride"));
            int[] dilation = GoldenFile.ints(m.get("dilation"));
            Generator g = new Generator(1);
            try (Conv2d layer = m.get("padding").isJsonPrimitive()
                    ? new Conv2d(sn, ws[1] * groups, ws[0], kernel, stride, m.get("padding").getAsString(), dilation,
                            groups, bias, dt, g)
                    : new Conv2d(sn, ws[1] * groups, ws[0], kernel, stride, GoldenFile.ints(m.get("padding")),
                            dilation, groups, bias, dt, g)) {
                layer.loadStateDict(state(f, c, dt, "weight", "bias"), true);
                Tensor y = layer.forward(f.load(sn, c + ".x", dt));
                check(f, c, "y", y, dt);
                y.backward(f.load(sn, c + ".dy", dt));
                check(f, c, "dweight", layer.weight().grad(), dt);
                if (bias) {
                    check(f, c, "dbias", layer.bias().grad(), dt);
                }
            }
        });
    }

    private Map<String, Tensor> state(GoldenFile f, String c, DType dt, String... names) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (String n : names) {
            if (f.has(c + "." + n)) {
                m.put(n, f.load(sn, c + "." + n, dt));
            }
        }
        return m;
    }

    // ---- pooling -----------------------------------------------------------------------------

    private static Module poolModule(JsonObject m) {
        return switch (m.get("op").getAsString()) {
            case "max" -> new MaxPool2d(GoldenFile.ints(m.get("kernel")), GoldenFile.ints(m.get("stride")),
                    GoldenFile.ints(m.get("padding")), GoldenFile.ints(m.get("dilation")),
                    m.get("ceil_mode").getAsBoolean());
            case "avg" -> new AvgPool2d(GoldenFile.ints(m.get("kernel")), GoldenFile.ints(m.get("stride")),
                    GoldenFile.ints(m.get("padding")), m.get("ceil_mode").getAsBoolean(),
                    m.get("count_include_pad").getAsBoolean());
            case "adaptive" -> {
                int[] size = GoldenFile.ints(m.get("output_size"));
                yield new AdaptiveAvgPool2d(size[0], size[1]);
            }
            default -> throw new IllegalStateException("unknown pool op " + m);
        };
    }

    @TestFactory
    Stream<DynamicTest> maxPool2d() {
        return pools("max");
    }

    @TestFactory
    Stream<DynamicTest> avgPool2d() {
        return pools("avg");
    }

    @TestFactory
    Stream<DynamicTest> adaptiveAvgPool2d() {
        return pools("adaptive");
    }

    private Stream<DynamicTest> pools(String prefix) {
        return each(pool, prefix, (f, c, m, dt) -> {
            try (Module layer = poolModule(m)) {
                Tensor x = f.load(sn, c + ".x", dt).requiresGrad(true);
                Tensor y = layer.forward(x);
                check(f, c, "y", y, dt);
                y.backward(f.load(sn, c + ".dy", dt));
                check(f, c, "dx", x.grad(), dt);
            }
        });
    }

    // ---- batch norm --------------------------------------------------------------------------

    @TestFactory
    Stream<DynamicTest> batchNorm2d() {
        return each(bn, "", (f, c, m, dt) -> {
            long[] shape = f.shape(c + ".x1");
            boolean affine = m.get("affine").getAsBoolean();
            boolean track = m.get("track_running_stats").getAsBoolean();
            Double momentum = m.get("momentum").isJsonNull() ? null : m.get("momentum").getAsDouble();
            try (BatchNorm2d layer = new BatchNorm2d(sn, shape[1], m.get("eps").getAsDouble(), momentum, affine, track,
                    dt)) {
                layer.loadStateDict(state(f, c, dt, "weight", "bias"), false);
                layer.train();
                Tensor x1 = f.load(sn, c + ".x1", dt).requiresGrad(true);
                Tensor y1 = layer.forward(x1);
                check(f, c, "y1", y1, dt);
                y1.backward(f.load(sn, c + ".dy", dt));
                check(f, c, "dx1", x1.grad(), dt);
                if (affine) {
                    check(f, c, "dweight", layer.weight().grad(), dt);
                    check(f, c, "dbias", layer.bias().grad(), dt);
                }
                if (track) {
                    check(f, c, "running_mean1", layer.runningMean(), dt);
                    check(f, c, "running_var1", layer.runningVar(), dt);
                }
                try (NoGrad ng = sn.noGrad()) {
                    check(f, c, "y2", layer.forward(f.load(sn, c + ".x2", dt)), dt);
                    if (track) {
                        check(f, c, "running_mean2", layer.runningMean(), dt);
                        check(f, c, "running_var2", layer.runningVar(), dt);
                        assertEquals((long) f.doubles(sn, c + ".num_batches_tracked")[0], layer.numBatchesTracked(),
                                c + ": num_batches_tracked");
                    }
                    layer.eval();
                    check(f, c, "y3", layer.forward(f.load(sn, c + ".x3", dt)), dt);
                }
            }
        });
    }

    // ---- comparison --------------------------------------------------------------------------

    /** Compares {@code actual} with the fixture's {@code <c>.<what>} (shape and values). */
    private void check(GoldenFile f, String c, String what, Tensor actual, DType dt) {
        String name = c + "." + what;
        assertNotNull(actual, name + ": no tensor (a gradient that was not computed?)");
        assertArrayEquals(f.shape(name), actual.dims(), name + ": shape");
        assertEquals(dt, actual.dtype(), name + ": dtype");
        assertRelative(name + " " + dt, f.doubles(sn, name), actual.toDoubleArray(), relativeTolerance(dt));
    }

    /**
     * Asserts {@code |a − e| ≤ rtol·max(|e|, FLOOR·max|e|)} elementwise, listing the worst element and
     * the first mismatches.
     */
    public static void assertRelative(String what, double[] expected, double[] actual, double rtol) {
        assertEquals(expected.length, actual.length, what + ": element count");
        double max = 0;
        for (double e : expected) {
            max = Math.max(max, Math.abs(e));
        }
        double floor = Math.max(FLOOR * max, Double.MIN_NORMAL);
        double worst = 0;
        int worstAt = -1;
        int bad = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), floor);
            if (!(err <= rtol)) {
                if (bad < 6) {
                    first.append(String.format("%n  [%d] expected %.17g, actual %.17g, relative error %.3g", i,
                            expected[i], actual[i], err));
                }
                bad++;
            }
            if (!(err <= worst)) {
                worst = err;
                worstAt = i;
            }
        }
        if (bad > 0) {
            fail(String.format("%s: %d of %d elements off by more than %.1g (relative); worst %.3g at [%d]; first:%s",
                    what, bad, expected.length, rtol, worst, worstAt, first));
        }
    }
}
