package dev.sinew.optim;

import static dev.sinew.nn.Golden.assertClose;
import static dev.sinew.nn.Golden.obj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Tensor;
import dev.sinew.nn.Golden;
import dev.sinew.nn.SinewTestBase;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Learning-rate schedules against the sequences PyTorch 1.13's schedulers produce. */
class LrSchedulerTest extends SinewTestBase {
    private static final Map<String, Object> G = Golden.load("sched_golden.json");

    private void checkSequence(String key, Function<Optimizer, LrScheduler> make) {
        Map<String, Object> c = obj(G, key);
        @SuppressWarnings("unchecked")
        List<Object> lrs = (List<Object>) c.get("lrs");
        try (Tensor p = sn.zeros(DType.FLOAT64, 1).detachFromScope().requiresGrad(true);
                Optimizer opt = new SGD(List.of(p), Golden.num(G, "base_lr"))) {
            LrScheduler s = make.apply(opt);
            assertEquals(0, s.lastEpoch());
            assertEquals(Golden.num(G, "base_lr"), s.baseLr());
            double[] got = new double[lrs.size()];
            got[0] = opt.lr();
            for (int i = 1; i < got.length; i++) {
                opt.step(); // no gradient: skipped, as in PyTorch
                s.step();
                got[i] = opt.lr();
                assertEquals(got[i], s.lr());
                assertEquals(i, s.lastEpoch());
            }
            double[] want = lrs.stream().mapToDouble(o -> ((Number) o).doubleValue()).toArray();
            assertClose(key, want, got, 1e-10);
        }
    }

    @Test
    void stepLr() {
        Map<String, Object> c = obj(G, "step_lr");
        checkSequence("step_lr", o -> new StepLR(o, (long) Golden.num(c, "step_size"), Golden.num(c, "gamma")));
    }

    @Test
    void exponentialLr() {
        checkSequence("exponential_lr", o -> new ExponentialLR(o, Golden.num(obj(G, "exponential_lr"), "gamma")));
    }

    @Test
    void cosineAnnealingLr() {
        Map<String, Object> c = obj(G, "cosine_lr");
        checkSequence("cosine_lr",
                o -> new CosineAnnealingLR(o, (long) Golden.num(c, "t_max"), Golden.num(c, "eta_min")));
        long tMax = (long) Golden.num(obj(G, "cosine_lr_zero_min"), "t_max");
        checkSequence("cosine_lr_zero_min", o -> new CosineAnnealingLR(o, tMax));
    }

    @Test
    void linearWarmup() {
        Map<String, Object> c = obj(G, "linear_warmup");
        checkSequence("linear_warmup",
                o -> new LinearWarmup(o, (long) Golden.num(c, "warmup_steps"), Golden.num(c, "start_factor")));
    }

    @Test
    void closedFormAllowsAnyEpochAndChecksArguments() {
        try (Tensor p = sn.zeros(DType.FLOAT64, 1).detachFromScope().requiresGrad(true);
                Optimizer opt = new Adam(List.of(p), 0.5)) {
            LrScheduler s = new StepLR(opt, 10, 0.1);
            assertEquals(0.5 * 1e-3, s.lrAt(35), 1e-15);
            assertThrows(IllegalArgumentException.class, () -> s.lrAt(-1));
            var e = assertThrows(IllegalArgumentException.class, () -> new StepLR(opt, 0, 0.1));
            assertTrue(e.getMessage().contains("StepLR") && e.getMessage().contains("stepSize"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new ExponentialLR(opt, -0.5));
            assertThrows(IllegalArgumentException.class, () -> new CosineAnnealingLR(opt, 0, 0));
            assertThrows(IllegalArgumentException.class, () -> new CosineAnnealingLR(opt, 5, -1));
            assertThrows(IllegalArgumentException.class, () -> new LinearWarmup(opt, 5, 0));
            assertThrows(IllegalArgumentException.class, () -> new LinearWarmup(opt, 0, 0.5));
            assertThrows(IllegalArgumentException.class, () -> new LinearWarmup(null, 5, 0.5));
        }
    }
}
