package dev.sinew.spi;

import java.util.List;

/**
 * The fused tier of the SPI: ops that a backend can run faster as one unit (cuDNN, cuBLAS, a
 * Vector API loop) than as a chain of primitives. Every method has a default, in {@link Composed},
 * built from the primitive ops of {@link Backend}; backends override what they can do better.
 * Core's autograd calls these ops and their explicit {@code …Backward} forms.
 */
public interface FusedOps {

    /** The primitives the defaults are composed from (a backend returns itself). */
    Backend primitives();

    /**
     * Softmax (or log-softmax when {@code log}) over the last axis of {@code x}; out has x's shape.
     * Rows are computed stably (max subtracted first).
     */
    default void softmax(View x, View out, boolean log) {
        Composed.softmax(primitives(), x, out, log);
    }

    /**
     * Gradient of {@link #softmax} given its output {@code y} and upstream {@code dy}:
     * softmax: {@code dx = y ⊙ (dy − Σ dy⊙y)}; log-softmax: {@code dx = dy − exp(y) ⊙ Σ dy}.
     */
    default void softmaxBackward(View y, View dy, View dx, boolean log) {
        Composed.softmaxBackward(primitives(), y, dy, dx, log);
    }

    /**
     * Cross-entropy from logits {@code [N, C]} and INT64 labels {@code [N]}: writes per-row loss
     * {@code [N]} and the softmax probabilities {@code [N, C]} (kept for the backward). With label
     * smoothing ε, loss = (1−ε)·(−log p_y) − (ε/C)·Σ_c log p_c. Rows whose label equals
     * {@code ignoreIndex} get loss 0. Labels are already checked to be in range.
     */
    default void softmaxCrossEntropy(View logits, View labels, View loss, View probs, long ignoreIndex,
            double labelSmoothing) {
        Composed.softmaxCrossEntropy(primitives(), logits, labels, loss, probs, ignoreIndex, labelSmoothing);
    }

    /**
     * {@code dLogits[n, c] = dLoss[n] · (probs[n, c] − target[n, c])} with target the smoothed
     * one-hot; rows with the ignored label get 0.
     */
    default void softmaxCrossEntropyBackward(View probs, View labels, View dLoss, View dLogits, long ignoreIndex,
            double labelSmoothing) {
        Composed.softmaxCrossEntropyBackward(primitives(), probs, labels, dLoss, dLogits, ignoreIndex,
                labelSmoothing);
    }

    /**
     * Inverted dropout: {@code mask[i] = u_i ≥ p ? 1/(1−p) : 0} with {@code u_i} =
     * {@link Philox#uniform}{@code (seed, offset + i)}, and {@code out = x ⊙ mask}. The backward is
     * {@code dy ⊙ mask}, a primitive multiply.
     */
    default void dropout(View x, View out, View mask, double p, long seed, long offset) {
        Composed.dropout(primitives(), x, out, mask, p, seed, offset);
    }

    /**
     * One SGD step over many parameters, in place, as {@code torch.optim.SGD}: with weight decay
     * {@code g += wd·θ}; with momentum {@code buf = firstStep ? g : μ·buf + (1−dampening)·g},
     * {@code g = nesterov ? g + μ·buf : buf}; then {@code θ −= lr·g}. {@code momentum} holds one
     * buffer per parameter, or is empty when μ = 0. Gradients are not modified.
     */
    default void sgdStep(List<View> params, List<View> grads, List<View> momentum, SgdConfig cfg) {
        Composed.sgdStep(primitives(), params, grads, momentum, cfg);
    }

    /**
     * One Adam or AdamW step (as {@code torch.optim.Adam}/{@code AdamW}, amsgrad off), in place:
     * L2 ({@code g += wd·θ}) or decoupled ({@code θ −= lr·wd·θ}) decay;
     * {@code m = β1·m + (1−β1)·g}, {@code v = β2·v + (1−β2)·g²},
     * {@code θ −= lr · (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + ε)} with t = {@code cfg.step()} ≥ 1.
     */
    default void adamStep(List<View> params, List<View> grads, List<View> m, List<View> v, AdamConfig cfg) {
        Composed.adamStep(primitives(), params, grads, m, v, cfg);
    }

    /**
     * One RMSProp step as {@code torch.optim.RMSprop}, in place: {@code g += wd·θ};
     * {@code sq = α·sq + (1−α)·g²}; centered: {@code ga = α·ga + (1−α)·g}, {@code avg = sqrt(sq − ga²) + ε},
     * else {@code avg = sqrt(sq) + ε}; momentum: {@code buf = μ·buf + g/avg, θ −= lr·buf}, else
     * {@code θ −= lr·g/avg}. {@code momentumBuf} is empty when μ = 0, {@code gradAvg} when not centered.
     */
    default void rmspropStep(List<View> params, List<View> grads, List<View> squareAvg, List<View> momentumBuf,
            List<View> gradAvg, RmsPropConfig cfg) {
        Composed.rmspropStep(primitives(), params, grads, squareAvg, momentumBuf, gradAvg, cfg);
    }

    /** Hyper-parameters of {@link #sgdStep}. */
    record SgdConfig(double lr, double momentum, double dampening, boolean nesterov, double weightDecay,
            boolean firstStep) {
    }

    /** Hyper-parameters of {@link #adamStep}; {@code decoupled} selects AdamW's decay. */
    record AdamConfig(double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled,
            long step) {
    }

    /** Hyper-parameters of {@link #rmspropStep}. */
    record RmsPropConfig(double lr, double alpha, double eps, double weightDecay, double momentum,
            boolean centered) {
    }
}
