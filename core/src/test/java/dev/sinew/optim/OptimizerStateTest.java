package dev.sinew.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Tensor;
import dev.sinew.nn.SinewTestBase;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** {@link Optimizer#stateDict()} and {@link Optimizer#loadStateDict}: names, exact continuation, checks. */
class OptimizerStateTest extends SinewTestBase {

    private List<Tensor> params(long seed) {
        gen.setState(seed, 0);
        List<Tensor> out = new ArrayList<>();
        out.add(sn.randn(gen, DType.FLOAT32, 3, 4).requiresGrad(true).detachFromScope());
        out.add(sn.randn(gen, DType.FLOAT32, 4).requiresGrad(true).detachFromScope());
        out.add(sn.randn(gen, DType.FLOAT32, 2, 2).requiresGrad(true).detachFromScope());
        return out;
    }

    /** Gradients of sum(p^3) for the first {@code count} parameters. */
    private void grads(List<Tensor> ps, int count) {
        try (var _ = sn.scope()) {
            Tensor loss = null;
            for (int i = 0; i < count; i++) {
                Tensor t = ps.get(i).pow(3.0).sum();
                loss = loss == null ? t : loss.add(t);
            }
            loss.backward();
        }
    }

    private static void closeAll(List<Tensor> ts) {
        for (Tensor t : ts) {
            t.close();
        }
    }

    private static final List<Function<List<Tensor>, Optimizer>> MAKERS = List.of(
            p -> new SGD(p, 0.05),
            p -> SGD.builder(p).lr(0.05).momentum(0.9).nesterov(true).weightDecay(0.01).build(),
            p -> Adam.builder(p).lr(0.01).weightDecay(0.1).build(),
            p -> new AdamW(p, 0.01),
            p -> RMSProp.builder(p).lr(0.01).momentum(0.5).centered(true).build(),
            p -> new RMSProp(p, 0.01));

    @Test
    void keysFollowPyTorchNames() {
        List<Tensor> ps = params(1);
        try (Adam adam = new Adam(ps, 0.01);
                SGD sgd = new SGD(ps, 0.1, 0.9);
                SGD plain = new SGD(ps, 0.1);
                RMSProp rms = RMSProp.builder(ps).momentum(0.5).centered(true).build()) {
            for (Optimizer o : List.of(adam, sgd, plain, rms)) {
                grads(ps, 2); // parameter 2 gets no gradient: no state
                o.step();
                o.zeroGrad();
            }
            OptimizerState a = adam.stateDict();
            assertEquals("Adam", a.optimizer());
            assertEquals(List.of("0.exp_avg", "0.exp_avg_sq", "1.exp_avg", "1.exp_avg_sq"), List.copyOf(a.tensors().keySet()));
            assertEquals(Map.of("0.step", 1L, "1.step", 1L), a.counters());
            assertEquals(1, a.stepCount());
            assertEquals(0.01, a.lr());
            assertEquals(List.of("0.momentum_buffer", "1.momentum_buffer"), List.copyOf(sgd.stateDict().tensors().keySet()));
            assertTrue(plain.stateDict().tensors().isEmpty());
            assertEquals(List.of("0.square_avg", "0.momentum_buffer", "0.grad_avg", "1.square_avg", "1.momentum_buffer",
                    "1.grad_avg"), List.copyOf(rms.stateDict().tensors().keySet()));
        } finally {
            closeAll(ps);
        }
    }

    /** A second optimiser given the first's state continues exactly as the first does, for every kind. */
    @Test
    void loadedStateContinuesBitForBit() {
        for (int k = 0; k < MAKERS.size(); k++) {
            List<Tensor> pa = params(7);
            List<Tensor> pb = params(7);
            try (Optimizer a = MAKERS.get(k).apply(pa); Optimizer b = MAKERS.get(k).apply(pb)) {
                // Parameter 2 starts late, so parameters are at different points of their history.
                for (int s = 0; s < 3; s++) {
                    grads(pa, s == 0 ? 2 : 3);
                    a.step();
                    a.zeroGrad();
                }
                a.setLr(a.lr() * 0.5);
                try (var _ = sn.noGrad()) {
                    for (int i = 0; i < pa.size(); i++) {
                        pb.get(i).copy_(pa.get(i));
                    }
                }
                b.loadStateDict(a.stateDict());
                assertEquals(a.stepCount(), b.stepCount());
                assertEquals(a.lr(), b.lr());
                assertEquals(a.stateTensors(), b.stateTensors(), a.name());
                for (int s = 0; s < 3; s++) {
                    grads(pa, 3);
                    a.step();
                    a.zeroGrad();
                    grads(pb, 3);
                    b.step();
                    b.zeroGrad();
                }
                for (int i = 0; i < pa.size(); i++) {
                    assertArrayEquals(pa.get(i).toFloatArray(), pb.get(i).toFloatArray(), a + " parameter " + i);
                }
            } finally {
                closeAll(pa);
                closeAll(pb);
            }
        }
    }

    @Test
    void loadingFreesStateOfParametersTheStateLacks() {
        List<Tensor> ps = params(3);
        try (Adam fresh = new Adam(ps); Adam used = new Adam(ps)) {
            grads(ps, 3);
            used.step();
            assertEquals(6, used.stateTensors());
            used.loadStateDict(fresh.stateDict());
            assertEquals(0, used.stateTensors());
            assertEquals(0, used.stepCount());
            assertTrue(used.stateDict().counters().isEmpty());
        } finally {
            closeAll(ps);
        }
    }

    @Test
    void everyProblemIsReportedAtOnceAndNothingChanges() {
        List<Tensor> ps = params(5);
        try (Adam adam = new Adam(ps, 0.01); var _ = sn.scope()) {
            grads(ps, 3);
            adam.step();
            LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
            t.put("x", sn.zeros(1));
            t.put("9.exp_avg", sn.zeros(1));
            t.put("0.momentum_buffer", sn.zeros(3, 4));
            t.put("1.exp_avg", sn.zeros(5));
            t.put("2.exp_avg", sn.zeros(2, 2)); // without exp_avg_sq
            OptimizerState bad = new OptimizerState("Adam", 0.5, 3, t, Map.of("0.step", -1L));
            var e = assertThrows(IllegalArgumentException.class, () -> adam.loadStateDict(bad));
            String m = e.getMessage();
            for (String part : List.of("malformed key 'x'", "'9.exp_avg' names parameter 9 but there are 3",
                    "unexpected key '0.momentum_buffer'", "'1.exp_avg' has shape [5] but parameter 1 is [4]",
                    "parameter 2 has state but no '2.exp_avg_sq'", "counter '0.step' is -1")) {
                assertTrue(m.contains(part), () -> "'" + part + "' in: " + m);
            }
            assertEquals(1, adam.stepCount(), "nothing changed");
            assertEquals(0.01, adam.lr());
            assertEquals(6, adam.stateTensors());
            var other = assertThrows(IllegalArgumentException.class,
                    () -> adam.loadStateDict(new OptimizerState("SGD", 0.1, 0, Map.of(), Map.of())));
            assertTrue(other.getMessage().contains("the state is of SGD, not Adam"), other.getMessage());
        } finally {
            closeAll(ps);
        }
    }

    @Test
    void schedulesCanBeMovedToAnEpoch() {
        List<Tensor> ps = params(2);
        try (SGD a = new SGD(ps, 0.1); SGD b = new SGD(ps, 0.1)) {
            List<java.util.function.Function<Optimizer, LrScheduler>> makers = List.of(o -> new StepLR(o, 2, 0.5),
                    o -> new ExponentialLR(o, 0.9), o -> new CosineAnnealingLR(o, 5, 0.01),
                    o -> new LinearWarmup(o, 3, 0.1));
            for (var make : makers) {
                a.setLr(0.1);
                b.setLr(0.1);
                LrScheduler sa = make.apply(a);
                LrScheduler sb = make.apply(b);
                for (int i = 0; i < 4; i++) {
                    sa.step();
                }
                sb.setLastEpoch(sa.lastEpoch());
                assertEquals(4, sb.lastEpoch());
                assertEquals(a.lr(), b.lr(), sa.getClass().getSimpleName());
                sa.step();
                sb.step();
                assertEquals(a.lr(), b.lr());
                assertThrows(IllegalArgumentException.class, () -> sb.setLastEpoch(-1));
            }
        } finally {
            closeAll(ps);
        }
    }
}
