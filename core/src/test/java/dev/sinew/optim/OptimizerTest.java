package dev.sinew.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.nn.Linear;
import dev.sinew.nn.Losses;
import dev.sinew.nn.ReLU;
import dev.sinew.nn.Sequential;
import dev.sinew.nn.SinewTestBase;
import dev.sinew.spi.Backend;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Optimiser behaviour beyond the golden values: fused-op usage, state lifetime, argument checks. */
class OptimizerTest extends SinewTestBase {

    /** A backend that forwards to the reference backend and counts the calls of each method. */
    private static Backend counting(Backend inner, Map<String, AtomicInteger> calls) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, m, args) -> {
                    calls.computeIfAbsent(m.getName(), k -> new AtomicInteger()).incrementAndGet();
                    try {
                        return m.invoke(inner, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private static void setGrads(Sinew s, List<Tensor> params, boolean lastToo) {
        try (var _ = s.scope()) {
            Tensor loss = null;
            for (int i = 0; i < params.size() - (lastToo ? 0 : 1); i++) {
                Tensor t = params.get(i).square().sum();
                loss = loss == null ? t : loss.add(t);
            }
            loss.backward();
        }
    }

    @Test
    void eachStepIsOneFusedCallForTheWholeParameterList() {
        Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
        try (Sinew s = Sinew.of(counting(Sinew.use("reference").backend(), calls))) {
            Generator g = new Generator(1);
            List<Function<List<Tensor>, Optimizer>> makers = List.of(
                    p -> new SGD(p, 0.1, 0.9), p -> new Adam(p), p -> new AdamW(p),
                    p -> RMSProp.builder(p).momentum(0.5).centered(true).build(), p -> new SGD(p, 0.1));
            List<String> ops = List.of("sgdStep", "adamStep", "adamStep", "rmspropStep", "sgdStep");
            for (int k = 0; k < makers.size(); k++) {
                try (Tensor a = s.randn(g, DType.FLOAT32, 3, 4).requiresGrad(true);
                        Tensor b = s.randn(g, DType.FLOAT32, 4).requiresGrad(true);
                        Tensor c = s.randn(g, DType.FLOAT32, 2, 2).requiresGrad(true);
                        Optimizer opt = makers.get(k).apply(List.of(a, b, c))) {
                    String op = ops.get(k);
                    calls.clear();
                    // Step 1: c has no gradient and is skipped; one call for a and b.
                    setGrads(s, opt.params(), false);
                    opt.step();
                    assertEquals(1, calls.get(op).get(), op + " step 1");
                    // Step 2: c's first update while a and b are on their second: at most two calls
                    // (SGD's momentum initialisation and Adam's bias correction differ), RMSProp one.
                    opt.zeroGrad();
                    setGrads(s, opt.params(), true);
                    opt.step();
                    int second = calls.get(op).get() - 1;
                    assertTrue(second == 1 || second == 2, op + " step 2: " + second);
                    if (op.equals("rmspropStep") || opt instanceof SGD sgd && sgd.momentum() == 0) {
                        assertEquals(1, second, op + " needs no split");
                    }
                    // Step 3: SGD's buffers are all initialised now: one call. Adam keeps per-parameter step
                    // counts (as PyTorch), so c, one step behind, still has its own bias correction.
                    opt.step();
                    assertEquals(op.equals("adamStep") ? second : 1, calls.get(op).get() - 1 - second, op + " step 3");
                    opt.zeroGrad();
                }
            }
            assertEquals(0, s.backend().liveBuffers());
        }
    }

    @Test
    void stateIsOwnedByTheOptimiserAndFreedOnClose() {
        try (Sequential model = new Sequential(new Linear(sn, 4, 8, gen), new ReLU(), new Linear(sn, 8, 3, gen))) {
            Tensor x = sn.randn(gen, DType.FLOAT32, 6, 4);
            Tensor y = sn.fromArray(new long[] {0, 1, 2, 0, 1, 2}, 6);
            long before = sn.backend().liveBuffers();
            Adam adam = new Adam(model.parameters(), 1e-2);
            RMSProp rms = RMSProp.builder(model.parameters()).momentum(0.9).centered(true).build();
            SGD sgd = new SGD(model.parameters(), 0.1, 0.9);
            double first = 0;
            double last = 0;
            for (int i = 0; i < 20; i++) {
                model.zeroGrad();
                try (var _ = sn.scope()) {
                    Tensor loss = Losses.crossEntropy(model.forward(x), y);
                    if (i == 0) {
                        first = loss.item();
                    }
                    last = loss.item();
                    loss.backward();
                }
                (i % 3 == 0 ? adam : i % 3 == 1 ? rms : sgd).step();
            }
            assertTrue(last < first, "training reduces the loss: " + first + " -> " + last);
            assertEquals(4 * 2, adam.stateTensors());
            assertEquals(4 * 3, rms.stateTensors());
            assertEquals(4, sgd.stateTensors());
            adam.close();
            rms.close();
            sgd.close();
            sgd.close(); // idempotent
            assertThrows(IllegalStateException.class, sgd::step);
            model.zeroGrad();
            assertEquals(before, sn.backend().liveBuffers(), "optimiser close frees all of its state");
        }
    }

    @Test
    void skipsParametersWithoutGradientsAndTracksLr() {
        try (Tensor a = sn.ones(DType.FLOAT64, 3).detachFromScope().requiresGrad(true);
                Tensor b = sn.ones(DType.FLOAT64, 3).detachFromScope().requiresGrad(true);
                SGD opt = new SGD(List.of(a, b), 0.5)) {
            try (var _ = sn.scope()) {
                a.sum().backward();
            }
            opt.step();
            assertArrayEquals(new double[] {0.5, 0.5, 0.5}, a.toDoubleArray());
            assertArrayEquals(new double[] {1, 1, 1}, b.toDoubleArray());
            opt.setLr(0.25);
            assertEquals(0.25, opt.lr());
            opt.step();
            assertArrayEquals(new double[] {0.25, 0.25, 0.25}, a.toDoubleArray());
            assertEquals(2, opt.stepCount());
            assertNotEquals(null, a.grad());
            opt.zeroGrad();
            assertEquals(null, a.grad());
            assertThrows(IllegalArgumentException.class, () -> opt.setLr(-1));
        }
    }

    private static void assertMessage(Executable ex, String... parts) {
        var e = assertThrows(IllegalArgumentException.class, ex);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' should contain '" + p + "'");
        }
    }

    @Test
    void hyperParametersAreValidatedLikePyTorch() {
        Tensor p = sn.zeros(DType.FLOAT32, 2).requiresGrad(true);
        List<Tensor> ps = List.of(p);
        assertMessage(() -> new SGD(ps, -0.1), "SGD", "learning rate", "-0.1");
        assertMessage(() -> new SGD(ps, Double.NaN), "SGD", "learning rate");
        assertMessage(() -> new SGD(ps, 0.1, -0.9), "SGD", "momentum");
        assertMessage(() -> new SGD(ps, 0.1, 0, 0, true, 0), "SGD", "Nesterov");
        assertMessage(() -> new SGD(ps, 0.1, 0.9, 0.1, true, 0), "SGD", "Nesterov", "dampening 0.1");
        assertMessage(() -> new SGD(ps, 0.1, 0.9, 0, false, -1), "SGD", "weight decay");
        assertMessage(() -> SGD.builder(ps).build(), "SGD", "learning rate is required");
        assertMessage(() -> new Adam(ps, 0.1, 1.0, 0.999, 1e-8, 0), "Adam", "beta", "index 0");
        assertMessage(() -> new Adam(ps, 0.1, 0.9, -0.1, 1e-8, 0), "Adam", "beta", "index 1");
        assertMessage(() -> new Adam(ps, 0.1, 0.9, 0.999, -1e-8, 0), "Adam", "epsilon");
        assertMessage(() -> new AdamW(ps, 0.1, 0.9, 0.999, 1e-8, -0.01), "AdamW", "weight decay");
        assertMessage(() -> new RMSProp(ps, 0.01, -0.5, 1e-8, 0, 0, false), "RMSProp", "alpha");
        assertMessage(() -> new RMSProp(ps, 0.01, 0.99, 1e-8, 0, -0.5, false), "RMSProp", "momentum");
        assertMessage(() -> new Adam(List.of()), "Adam", "at least one parameter");
        assertMessage(() -> new Adam(List.of(p, p)), "Adam", "same tensor");
        assertMessage(() -> new SGD(List.of(sn.zeros(DType.INT64, 2)), 0.1), "SGD", "INT64");
        assertEquals(0.01, new AdamW(ps).weightDecay());
        assertEquals(0.0, new Adam(ps).weightDecay());
        assertEquals(1e-3, new AdamW(ps).lr());
        assertEquals(0.01, new RMSProp(ps).lr());
    }

    @Test
    void clippingAndPenaltiesCheckArguments() {
        Tensor p = sn.zeros(DType.FLOAT32, 2).requiresGrad(true);
        assertEquals(0.0, GradClip.clipGradNorm(List.of(p), 1.0), "no gradients: total norm 0");
        assertMessage(() -> GradClip.clipGradNorm(List.of(p), -1), "clipGradNorm", "maxNorm");
        assertMessage(() -> GradClip.clipGradNorm(List.of(p), 1, 0), "clipGradNorm", "normType");
        assertMessage(() -> GradClip.clipGradValue(List.of(p), -1), "clipGradValue", "clip");
        assertMessage(() -> Regularization.l1Penalty(List.of(), 0.1), "l1Penalty", "at least one");
        assertMessage(() -> Regularization.l1Penalty(List.of(p), -0.1), "l1Penalty", "lambda");
        Tensor q = sn.fromArray(new double[] {1, -2}, 2).requiresGrad(true);
        Tensor l2 = Regularization.l2Penalty(List.of(q), 0.5);
        assertEquals(2.5, l2.item(), 1e-15);
        l2.backward();
        assertArrayEquals(new double[] {1, -2}, q.grad().toDoubleArray(), 1e-15);
    }
}
