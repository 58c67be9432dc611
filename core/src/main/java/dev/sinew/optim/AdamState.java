package dev.sinew.optim;

import dev.sinew.Tensor;
import dev.sinew.spi.FusedOps;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The per-parameter state shared by {@link Adam} and {@link AdamW}: first and second moment
 * estimates and each parameter's own step count (as PyTorch keeps {@code state['step']} per
 * parameter). The tensors are made through {@link Optimizer#newState} and so owned by the
 * optimiser. Not thread-safe.
 */
final class AdamState {
    private final Tensor[] m;     // per parameter, [param shape], null until its first update
    private final Tensor[] v;     // per parameter, [param shape]
    private final long[] steps;   // per parameter

    /** Registers the slots with {@code opt} (PyTorch's names: exp_avg, exp_avg_sq, step). */
    AdamState(Optimizer opt) {
        m = opt.registerStateSlot("exp_avg");
        v = opt.registerStateSlot("exp_avg_sq");
        steps = opt.registerCounter("step");
    }

    void update(Optimizer opt, List<Integer> active, double beta1, double beta2, double eps, double weightDecay,
            boolean decoupled) {
        // Group by the step each parameter is about to take: one fused call in the usual case where
        // every parameter has had a gradient on every step.
        TreeMap<Long, List<Integer>> byStep = new TreeMap<>();
        for (int i : active) {
            if (m[i] == null) {
                m[i] = opt.newState(opt.params().get(i));
                v[i] = opt.newState(opt.params().get(i));
            }
            steps[i]++;
            byStep.computeIfAbsent(steps[i], k -> new ArrayList<>()).add(i);
        }
        var backend = opt.sinew().backend();
        for (var e : byStep.entrySet()) {
            List<Integer> group = e.getValue();
            var cfg = new FusedOps.AdamConfig(opt.lr(), beta1, beta2, eps, weightDecay, decoupled, e.getKey());
            backend.adamStep(opt.paramViews(group), opt.gradViews(group), Optimizer.views(m, group),
                    Optimizer.views(v, group), cfg);
        }
    }

    static void check(String name, double beta1, double beta2, double eps, double weightDecay) {
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException(name + ": invalid beta parameter at index 0: " + beta1
                    + " (must be in [0, 1))");
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException(name + ": invalid beta parameter at index 1: " + beta2
                    + " (must be in [0, 1))");
        }
        Optimizer.checkNonNegative(name, "epsilon", eps);
        Optimizer.checkNonNegative(name, "weight decay", weightDecay);
    }
}
