package dev.sinew.optim;

import static dev.sinew.nn.Golden.assertClose;
import static dev.sinew.nn.Golden.obj;
import static dev.sinew.nn.Golden.tensor;
import static dev.sinew.nn.Golden.tol;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.sinew.DType;
import dev.sinew.Tensor;
import dev.sinew.nn.Golden;
import dev.sinew.nn.SinewTestBase;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Three optimiser steps, gradient clipping and the L1 penalty against PyTorch 1.13 (fixtures from
 * make_golden_nn_optim.py): float64 to 1e-10, float32 to 1e-5.
 */
class OptimGoldenTest extends SinewTestBase {
    private static final Map<String, Object> G = Golden.load("optim_golden.json");

    static Stream<Arguments> cases() {
        return obj(G, "cases").keySet().stream()
                .flatMap(k -> Stream.of(Arguments.of(k, DType.FLOAT64), Arguments.of(k, DType.FLOAT32)));
    }

    private static double cfg(Map<String, Object> c, String key, double def) {
        Object v = c.get(key);
        return v == null ? def : ((Number) v).doubleValue();
    }

    private static boolean flag(Map<String, Object> c, String key) {
        return Boolean.TRUE.equals(c.get(key));
    }

    /** The optimiser a fixture's {@code config} describes, with PyTorch's defaults for absent keys. */
    static Optimizer make(Map<String, Object> c, List<Tensor> params) {
        String type = (String) c.get("type");
        return switch (type) {
            case "sgd" -> SGD.builder(params).lr(cfg(c, "lr", Double.NaN)).momentum(cfg(c, "momentum", 0))
                    .dampening(cfg(c, "dampening", 0)).nesterov(flag(c, "nesterov"))
                    .weightDecay(cfg(c, "weight_decay", 0)).build();
            case "adam" -> new Adam(params, cfg(c, "lr", 1e-3), cfg(c, "beta1", 0.9), cfg(c, "beta2", 0.999),
                    cfg(c, "eps", 1e-8), cfg(c, "weight_decay", 0));
            case "adamw" -> AdamW.builder(params).lr(cfg(c, "lr", 1e-3))
                    .betas(cfg(c, "beta1", 0.9), cfg(c, "beta2", 0.999))
                    .eps(cfg(c, "eps", 1e-8)).weightDecay(cfg(c, "weight_decay", 0.01)).build();
            case "rmsprop" -> RMSProp.builder(params).lr(cfg(c, "lr", 0.01)).alpha(cfg(c, "alpha", 0.99))
                    .eps(cfg(c, "eps", 1e-8)).weightDecay(cfg(c, "weight_decay", 0)).momentum(cfg(c, "momentum", 0))
                    .centered(flag(c, "centered")).build();
            default -> throw new IllegalStateException("unknown optimiser " + type);
        };
    }

    @SuppressWarnings("unchecked")
    private Tensor grad(String key, int step, DType dt) {
        return tensor(sn, ((List<Object>) obj(G, "init").get(key)).get(step), dt);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void threeStepsMatchPyTorch(String name, DType dt) {
        Map<String, Object> c = obj(obj(G, "cases"), name);
        Map<String, Object> init = obj(G, "init");
        int bFrom = (int) Golden.num(c, "b_from_step");
        @SuppressWarnings("unchecked")
        List<Object> steps = (List<Object>) c.get("steps");
        try (Tensor w = tensor(sn, init.get("w"), dt).detachFromScope().requiresGrad(true);   // [3, 4]
                Tensor b = tensor(sn, init.get("b"), dt).detachFromScope().requiresGrad(true);  // [4]
                Optimizer opt = make(obj(c, "config"), List.of(w, b))) {
            for (int k = 0; k < 3; k++) {
                opt.zeroGrad();
                try (var _ = sn.scope()) {
                    // d/dw Σ w⊙G = G: sets the gradient to the fixture's.
                    Tensor loss = w.mul(grad("grad_w", k, dt)).sum();
                    if (k >= bFrom) {
                        loss = loss.add(b.mul(grad("grad_b", k, dt)).sum());
                    }
                    loss.backward();
                }
                if (k < bFrom) {
                    assertNull(b.grad());
                }
                opt.step();
                assertClose(name + " step " + k + " w", obj(steps.get(k), "w"), w, tol(dt));
                assertClose(name + " step " + k + " b", obj(steps.get(k), "b"), b, tol(dt));
            }
            assertEquals(3, opt.stepCount());
        }
    }

    @Test
    void clipGradNormAndValueMatchPyTorch() {
        Map<String, Object> clips = obj(G, "clip");
        Map<String, Object> init = obj(G, "init");
        for (var e : clips.entrySet()) {
            Map<String, Object> c = obj(clips, e.getKey());
            for (DType dt : List.of(DType.FLOAT64, DType.FLOAT32)) {
                try (Tensor w = tensor(sn, init.get("w"), dt).detachFromScope().requiresGrad(true);
                        Tensor b = tensor(sn, init.get("b"), dt).detachFromScope().requiresGrad(true)) {
                    try (var _ = sn.scope()) {
                        w.mul(grad("grad_w", 0, dt)).sum().add(b.mul(grad("grad_b", 0, dt)).sum()).backward();
                    }
                    long live = sn.backend().liveBuffers();
                    String what = e.getKey() + " " + dt;
                    if (c.containsKey("clip")) {
                        GradClip.clipGradValue(List.of(w, b), Golden.num(c, "clip"));
                    } else {
                        Object nt = c.get("norm_type");
                        double normType = "inf".equals(nt) ? Double.POSITIVE_INFINITY : ((Number) nt).doubleValue();
                        double total = GradClip.clipGradNorm(List.of(w, b), Golden.num(c, "max_norm"), normType);
                        assertClose(what + " total norm", Golden.num(c, "total"), total, tol(dt));
                    }
                    assertEquals(live, sn.backend().liveBuffers(), what + ": clipping must not leave buffers behind");
                    assertClose(what + " grad w", c.get("grad_w"), w.grad(), tol(dt));
                    assertClose(what + " grad b", c.get("grad_b"), b.grad(), tol(dt));
                }
            }
        }
    }

    @Test
    void l1PenaltyMatchesPyTorch() {
        Map<String, Object> l1 = obj(G, "l1");
        Map<String, Object> init = obj(G, "init");
        try (Tensor w = tensor(sn, init.get("w"), DType.FLOAT64).detachFromScope().requiresGrad(true);
                Tensor b = tensor(sn, init.get("b"), DType.FLOAT64).detachFromScope().requiresGrad(true)) {
            Tensor pen = Regularization.l1Penalty(List.of(w, b), Golden.num(l1, "lambda"));
            assertEquals(0, pen.rank());
            assertClose("l1 value", Golden.num(l1, "value"), pen.item(), 1e-10);
            pen.backward();
            assertClose("l1 grad w", l1.get("grad_w"), w.grad(), 1e-10);
            assertClose("l1 grad b", l1.get("grad_b"), b.grad(), 1e-10);
        }
    }
}
