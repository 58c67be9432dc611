package dev.sinew.optim;

import dev.sinew.Tensor;
import java.util.List;

/**
 * Adam, exactly as {@code torch.optim.Adam} (amsgrad off): L2 weight decay {@code g += wd·θ};
 * {@code m = β1·m + (1−β1)·g}, {@code v = β2·v + (1−β2)·g²};
 * {@code θ −= lr·(m/(1−β1^t)) / (sqrt(v/(1−β2^t)) + ε)} with t the parameter's own step count.
 * Runs as the backend's fused {@code adamStep} over all parameters at once. Defaults: lr 1e-3,
 * betas (0.9, 0.999), eps 1e-8, no weight decay. For decoupled weight decay use {@link AdamW}.
 *
 * <p>Ownership: two moment tensors per parameter, created on its first update and freed by
 * {@link #close()}. Not thread-safe.
 */
public final class Adam extends Optimizer {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final AdamState state;

    /** PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay. */
    public Adam(List<Tensor> params) {
        this(params, 1e-3);
    }

    public Adam(List<Tensor> params, double lr) {
        this(params, lr, 0.9, 0.999, 1e-8, 0);
    }

    /** @throws IllegalArgumentException for lr, eps or weightDecay below 0, or a beta outside [0, 1) */
    public Adam(List<Tensor> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        super("Adam", params, lr);
        AdamState.check("Adam", beta1, beta2, eps, weightDecay);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.state = new AdamState(this);
    }

    public static Builder builder(List<Tensor> params) {
        return new Builder(params);
    }

    public double beta1() {
        return beta1;
    }

    public double beta2() {
        return beta2;
    }

    public double eps() {
        return eps;
    }

    public double weightDecay() {
        return weightDecay;
    }

    @Override
    protected void update(List<Integer> active) {
        state.update(this, active, beta1, beta2, eps, weightDecay, false);
    }

    @Override
    public String toString() {
        return "Adam(lr=" + lr() + ", betas=(" + beta1 + ", " + beta2 + "), eps=" + eps + ", weight_decay="
                + weightDecay + ")";
    }

    /** Named hyper-parameters: {@code Adam.builder(params).lr(3e-4).weightDecay(1e-4).build()}. */
    public static final class Builder {
        private final List<Tensor> params;
        private double lr = 1e-3;
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double eps = 1e-8;
        private double weightDecay;

        private Builder(List<Tensor> params) {
            this.params = params;
        }

        public Builder lr(double v) {
            lr = v;
            return this;
        }

        public Builder betas(double b1, double b2) {
            beta1 = b1;
            beta2 = b2;
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

        public Adam build() {
            return new Adam(params, lr, beta1, beta2, eps, weightDecay);
        }
    }
}
