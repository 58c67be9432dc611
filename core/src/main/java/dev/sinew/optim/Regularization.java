package dev.sinew.optim;

import dev.sinew.Tensor;
import java.util.List;

/**
 * Explicit weight penalties to add to a loss. For L2 regularisation folded into the update, use the
 * optimisers' {@code weightDecay} instead ({@code weightDecay = wd} equals adding
 * {@code l2Penalty(params, wd / 2)}).
 *
 * <p>The result is an ordinary scalar tensor with autograd, owned by the scope open at the call, like
 * the loss it is added to. Stateless and thread-safe.
 */
public final class Regularization {
    private Regularization() {
    }

    /** {@code λ·Σ_p Σ |p|} as a scalar; its gradient is {@code λ·sign(p)} (0 at 0, as PyTorch). */
    public static Tensor l1Penalty(List<Tensor> params, double lambda) {
        check("l1Penalty", params, lambda);
        Tensor sum = null;
        for (Tensor p : params) {
            Tensor s = p.abs().sum(); // []
            sum = sum == null ? s : sum.add(s);
        }
        return sum.mul(lambda);
    }

    /** {@code λ·Σ_p Σ p²} as a scalar; its gradient is {@code 2λ·p}. */
    public static Tensor l2Penalty(List<Tensor> params, double lambda) {
        check("l2Penalty", params, lambda);
        Tensor sum = null;
        for (Tensor p : params) {
            Tensor s = p.square().sum(); // []
            sum = sum == null ? s : sum.add(s);
        }
        return sum.mul(lambda);
    }

    private static void check(String op, List<Tensor> params, double lambda) {
        if (!(lambda >= 0) || Double.isInfinite(lambda)) {
            throw new IllegalArgumentException(op + ": lambda must be finite and >= 0, got " + lambda);
        }
        if (params == null || params.isEmpty()) {
            throw new IllegalArgumentException(op + ": needs at least one parameter");
        }
        for (int i = 0; i < params.size(); i++) {
            Tensor p = params.get(i);
            if (p == null) {
                throw new IllegalArgumentException(op + ": parameter " + i + " is null");
            }
            if (!p.dtype().isFloating()) {
                throw new IllegalArgumentException(op + ": parameter " + i + " " + p.shape() + " must be floating, got "
                        + p.dtype());
            }
            if (p.dtype() != params.get(0).dtype()) {
                throw new IllegalArgumentException(op + ": parameter " + i + " is " + p.dtype() + " but parameter 0 is "
                        + params.get(0).dtype());
            }
        }
    }
}
