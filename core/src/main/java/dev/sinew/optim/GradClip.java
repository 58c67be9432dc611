package dev.sinew.optim;

import dev.sinew.DType;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Gradient clipping, as {@code torch.nn.utils.clip_grad_norm_} and {@code clip_grad_value_}: both
 * rewrite the gradients of the given parameters in place and skip parameters without one.
 *
 * <p>Every temporary lives in a scope opened and closed inside the call, so nothing is left behind;
 * the gradients stay owned by their parameters. Stateless; thread-safe as far as the parameters are
 * not shared.
 */
public final class GradClip {
    private GradClip() {
    }

    /** {@link #clipGradNorm(List, double, double)} with the L2 norm. */
    public static double clipGradNorm(List<Tensor> params, double maxNorm) {
        return clipGradNorm(params, maxNorm, 2.0);
    }

    /**
     * Scales all gradients together so that their joint {@code normType}-norm (the norm of the
     * gradients concatenated into one vector; {@code Double.POSITIVE_INFINITY} for the max-norm)
     * is at most {@code maxNorm}: with {@code coef = maxNorm / (total + 1e-6)}, every gradient is
     * multiplied by {@code coef} when it is below 1. A non-finite total propagates into the
     * gradients exactly as in PyTorch (with {@code error_if_nonfinite=False}).
     *
     * @return the total norm before clipping (0 when no parameter has a gradient)
     */
    public static double clipGradNorm(List<Tensor> params, double maxNorm, double normType) {
        if (!(maxNorm >= 0)) {
            throw new IllegalArgumentException("clipGradNorm: maxNorm must be >= 0, got " + maxNorm);
        }
        if (!(normType > 0)) {
            throw new IllegalArgumentException("clipGradNorm: normType must be > 0 (or infinity), got " + normType);
        }
        List<Tensor> grads = grads("clipGradNorm", params);
        if (grads.isEmpty()) {
            return 0.0;
        }
        Sinew sn = grads.get(0).sinew();
        try (var _ = sn.scope(); var _ = sn.noGrad()) {
            // One device reduction per gradient, accumulated on the device in FLOAT64, one read at the end.
            Tensor acc = null; // [] FLOAT64
            boolean inf = Double.isInfinite(normType);
            for (Tensor g : grads) {
                Tensor part; // []
                if (inf) {
                    part = g.abs().reshape(g.numel()).max(0, false);
                } else if (normType == 2.0) {
                    part = g.square().sum();
                } else if (normType == 1.0) {
                    part = g.abs().sum();
                } else {
                    part = g.abs().pow(normType).sum();
                }
                part = part.to(DType.FLOAT64);
                acc = acc == null ? part : inf ? acc.maximum(part) : acc.add(part);
            }
            double s = acc.item();
            double total = inf ? s : normType == 1.0 ? s : normType == 2.0 ? Math.sqrt(s) : Math.pow(s, 1.0 / normType);
            double coef = Math.min(maxNorm / (total + 1e-6), 1.0); // NaN stays NaN, as torch.clamp
            if (coef != 1.0) {
                for (Tensor g : grads) {
                    g.copy_(g.mul(coef));
                }
            }
            return total;
        }
    }

    /** Clamps every gradient element into {@code [−clip, clip]}. */
    public static void clipGradValue(List<Tensor> params, double clip) {
        if (!(clip >= 0)) {
            throw new IllegalArgumentException("clipGradValue: clip must be >= 0, got " + clip);
        }
        List<Tensor> grads = grads("clipGradValue", params);
        if (grads.isEmpty()) {
            return;
        }
        Sinew sn = grads.get(0).sinew();
        try (var _ = sn.scope(); var _ = sn.noGrad()) {
            for (Tensor g : grads) {
                g.copy_(g.clamp(-clip, clip));
            }
        }
    }

    private static List<Tensor> grads(String op, List<Tensor> params) {
        if (params == null) {
            throw new IllegalArgumentException(op + ": parameter list is null");
        }
        List<Tensor> out = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            Tensor p = params.get(i);
            if (p == null) {
                throw new IllegalArgumentException(op + ": parameter " + i + " is null");
            }
            if (p.isClosed()) {
                throw new IllegalStateException(op + ": parameter " + i + " " + p.shape() + " was closed");
            }
            if (p.grad() != null) {
                out.add(p.grad());
            }
        }
        return out;
    }
}
