package dev.sinew.optim;

import dev.sinew.Tensor;
import dev.sinew.spi.FusedOps;
import java.util.List;

/**
 * RMSProp, exactly as {@code torch.optim.RMSprop}: {@code g += wd·θ}; {@code sq = α·sq + (1−α)·g²};
 * centered: {@code ga = α·ga + (1−α)·g}, {@code avg = sqrt(sq − ga²) + ε}, else
 * {@code avg = sqrt(sq) + ε}; with momentum μ {@code buf = μ·buf + g/avg, θ −= lr·buf}, else
 * {@code θ −= lr·g/avg}. Runs as the backend's fused {@code rmspropStep} over all parameters at
 * once. Defaults: lr 0.01, α 0.99, ε 1e-8, no weight decay, no momentum, not centered.
 *
 * <p>Ownership: per parameter a square average, plus a momentum buffer (μ &gt; 0) and a gradient
 * average (centered), all zero-initialised on the parameter's first update and freed by
 * {@link #close()}. Not thread-safe.
 */
public final class RMSProp extends Optimizer {
    private final double alpha;
    private final double eps;
    private final double weightDecay;
    private final double momentum;
    private final boolean centered;
    private final Tensor[] squareAvg; // per parameter, null until its first update
    private final Tensor[] momentumBuf;
    private final Tensor[] gradAvg;

    /** PyTorch's defaults (lr 0.01). */
    public RMSProp(List<Tensor> params) {
        this(params, 0.01);
    }

    public RMSProp(List<Tensor> params, double lr) {
        this(params, lr, 0.99, 1e-8, 0, 0, false);
    }

    /** @throws IllegalArgumentException for lr, alpha, eps, weightDecay or momentum below 0 (as PyTorch) */
    public RMSProp(List<Tensor> params, double lr, double alpha, double eps, double weightDecay, double momentum,
            boolean centered) {
        super("RMSProp", params, lr);
        checkNonNegative("RMSProp", "alpha", alpha);
        checkNonNegative("RMSProp", "epsilon", eps);
        checkNonNegative("RMSProp", "weight decay", weightDecay);
        checkNonNegative("RMSProp", "momentum", momentum);
        this.alpha = alpha;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.momentum = momentum;
        this.centered = centered;
        int n = params.size();
        // PyTorch's names; only the buffers this configuration uses are state.
        this.squareAvg = registerStateSlot("square_avg");
        this.momentumBuf = momentum > 0 ? registerStateSlot("momentum_buffer") : new Tensor[n];
        this.gradAvg = centered ? registerStateSlot("grad_avg") : new Tensor[n];
    }

    public static Builder builder(List<Tensor> params) {
        return new Builder(params);
    }

    public double alpha() {
        return alpha;
    }

    public double eps() {
        return eps;
    }

    public double weightDecay() {
        return weightDecay;
    }

    public double momentum() {
        return momentum;
    }

    public boolean centered() {
        return centered;
    }

    @Override
    protected void update(List<Integer> active) {
        for (int i : active) {
            if (squareAvg[i] == null) {
                Tensor p = params().get(i);
                squareAvg[i] = newState(p);
                if (momentum > 0) {
                    momentumBuf[i] = newState(p);
                }
                if (centered) {
                    gradAvg[i] = newState(p);
                }
            }
        }
        var cfg = new FusedOps.RmsPropConfig(lr(), alpha, eps, weightDecay, momentum, centered);
        sinew().backend().rmspropStep(paramViews(active), gradViews(active), views(squareAvg, active),
                momentum > 0 ? views(momentumBuf, active) : List.of(),
                centered ? views(gradAvg, active) : List.of(), cfg);
    }

    @Override
    public String toString() {
        return "RMSProp(lr=" + lr() + ", alpha=" + alpha + ", eps=" + eps + ", weight_decay=" + weightDecay
                + ", momentum=" + momentum + ", centered=" + centered + ")";
    }

    /** Named hyper-parameters: {@code RMSProp.builder(params).lr(1e-3).centered(true).build()}. */
    public static final class Builder {
        private final List<Tensor> params;
        private double lr = 0.01;
        private double alpha = 0.99;
        private double eps = 1e-8;
        private double weightDecay;
        private double momentum;
        private boolean centered;

        private Builder(List<Tensor> params) {
            this.params = params;
        }

        public Builder lr(double v) {
            lr = v;
            return this;
        }

        public Builder alpha(double v) {
            alpha = v;
            return this;
        }

        public Builder eps(double v) {
            eps = v;
            return this;
        }

        public Builder weightDecay(double v) {
            weightDecay = v;
            return this;
        }

        public Builder momentum(double v) {
            momentum = v;
            return this;
        }

        public Builder centered(boolean v) {
            centered = v;
            return this;
        }

        public RMSProp build() {
            return new RMSProp(params, lr, alpha, eps, weightDecay, momentum, centered);
        }
    }
}
