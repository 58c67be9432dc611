package dev.sinew.optim;

import dev.sinew.Tensor;
import dev.sinew.spi.FusedOps;
import java.util.ArrayList;
import java.util.List;

/**
 * Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight
 * decay, exactly as {@code torch.optim.SGD}: {@code g += wd·θ}; with momentum μ,
 * {@code buf = g} on a parameter's first update and {@code buf = μ·buf + (1−dampening)·g} after,
 * then {@code g = nesterov ? g + μ·buf : buf}; finally {@code θ −= lr·g}. Runs as the backend's
 * fused {@code sgdStep} over all parameters at once.
 *
 * <p>Ownership: one momentum buffer per parameter (when μ &gt; 0), created on its first update and
 * freed by {@link #close()}. Not thread-safe.
 */
public final class SGD extends Optimizer {
    private final double momentum;
    private final double dampening;
    private final boolean nesterov;
    private final double weightDecay;
    private final Tensor[] buf; // per parameter, null until its first update

    /** Plain SGD. */
    public SGD(List<Tensor> params, double lr) {
        this(params, lr, 0, 0, false, 0);
    }

    /** SGD with momentum. */
    public SGD(List<Tensor> params, double lr, double momentum) {
        this(params, lr, momentum, 0, false, 0);
    }

    /**
     * @throws IllegalArgumentException for lr, momentum or weightDecay below 0, or Nesterov without
     *                                  momentum or with dampening (as PyTorch)
     */
    public SGD(List<Tensor> params, double lr, double momentum, double dampening, boolean nesterov,
            double weightDecay) {
        super("SGD", params, lr);
        checkNonNegative("SGD", "momentum", momentum);
        checkNonNegative("SGD", "weight decay", weightDecay);
        if (!Double.isFinite(dampening)) {
            throw new IllegalArgumentException("SGD: invalid dampening " + dampening + " (must be finite)");
        }
        if (nesterov && (momentum <= 0 || dampening != 0)) {
            throw new IllegalArgumentException("SGD: Nesterov momentum requires a momentum > 0 and zero dampening, got"
                    + " momentum " + momentum + " and dampening " + dampening);
        }
        this.momentum = momentum;
        this.dampening = dampening;
        this.nesterov = nesterov;
        this.weightDecay = weightDecay;
        // PyTorch's name; plain SGD keeps no state.
        this.buf = momentum > 0 ? registerStateSlot("momentum_buffer") : new Tensor[params.size()];
    }

    public static Builder builder(List<Tensor> params) {
        return new Builder(params);
    }

    public double momentum() {
        return momentum;
    }

    public double dampening() {
        return dampening;
    }

    public boolean nesterov() {
        return nesterov;
    }

    public double weightDecay() {
        return weightDecay;
    }

    @Override
    protected void update(List<Integer> active) {
        var backend = sinew().backend();
        if (momentum == 0) {
            var cfg = new FusedOps.SgdConfig(lr(), 0, dampening, false, weightDecay, true);
            backend.sgdStep(paramViews(active), gradViews(active), List.of(), cfg);
            return;
        }
        // Parameters on their first update take buf = g; the rest the running average. Normally all
        // are in one group; the split happens only when a parameter got its first gradient late.
        List<Integer> first = new ArrayList<>();
        List<Integer> later = new ArrayList<>();
        for (int i : active) {
            if (buf[i] == null) {
                buf[i] = newState(params().get(i));
                first.add(i);
            } else {
                later.add(i);
            }
        }
        for (List<Integer> group : List.of(first, later)) {
            if (!group.isEmpty()) {
                var cfg = new FusedOps.SgdConfig(lr(), momentum, dampening, nesterov, weightDecay, group == first);
                backend.sgdStep(paramViews(group), gradViews(group), views(buf, group), cfg);
            }
        }
    }

    @Override
    public String toString() {
        return "SGD(lr=" + lr() + ", momentum=" + momentum + ", dampening=" + dampening + ", nesterov=" + nesterov
                + ", weight_decay=" + weightDecay + ")";
    }

    /** Named hyper-parameters: {@code SGD.builder(params).lr(0.1).momentum(0.9).build()}. */
    public static final class Builder {
        private final List<Tensor> params;
        private double lr = Double.NaN;
        private double momentum;
        private double dampening;
        private boolean nesterov;
        private double weightDecay;

        private Builder(List<Tensor> params) {
            this.params = params;
        }

        /** Required. */
        public Builder lr(double v) {
            lr = v;
            return this;
        }

        public Builder momentum(double v) {
            momentum = v;
            return this;
        }

        public Builder dampening(double v) {
            dampening = v;
            return this;
        }

        public Builder nesterov(boolean v) {
            nesterov = v;
            return this;
        }

        public Builder weightDecay(double v) {
            weightDecay = v;
            return this;
        }

        public SGD build() {
            if (Double.isNaN(lr)) {
                throw new IllegalArgumentException("SGD: the learning rate is required (builder.lr(...))");
            }
            return new SGD(params, lr, momentum, dampening, nesterov, weightDecay);
        }
    }
}
