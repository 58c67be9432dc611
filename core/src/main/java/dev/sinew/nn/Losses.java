package dev.sinew.nn;

import dev.sinew.DType;
import dev.sinew.Functional;
import dev.sinew.Tensor;

/**
 * Loss functions with PyTorch's semantics ({@code torch.nn.functional}): mean squared error,
 * cross-entropy from logits, negative log-likelihood, and binary cross-entropy with logits.
 *
 * <p>Every function checks its arguments and throws {@link IllegalArgumentException} naming the
 * loss, the argument and the shapes (mismatched batch sizes, labels that are not INT64 or out of
 * range, mismatched dtypes). Results and intermediates are ordinary tensors, owned by the
 * {@link dev.sinew.Scope} open at the call: compute a loss inside the step's scope, so the
 * autograd graph stays alive until {@code backward()} and is freed when the scope closes.
 *
 * <p>Stateless and thread-safe (as far as the tensors passed in are not shared).
 */
public final class Losses {
    /** PyTorch's default {@code ignore_index}. */
    public static final long DEFAULT_IGNORE_INDEX = -100;

    private Losses() {
    }

    // ---- mean squared error ----------------------------------------------------------------------

    /** {@code mean((pred − target)²)}. */
    public static Tensor mse(Tensor pred, Tensor target) {
        return mse(pred, target, Reduction.MEAN);
    }

    /** {@code (pred − target)²} reduced by {@code reduction}; pred and target have the same shape. */
    public static Tensor mse(Tensor pred, Tensor target, Reduction reduction) {
        checkPair("mse", "pred", pred, "target", target, reduction);
        Tensor d = pred.sub(target); // [*]
        return reduceElementwise(d.square(), reduction);
    }

    // ---- cross-entropy ---------------------------------------------------------------------------

    /** Mean cross-entropy of logits {@code [N, C]} against INT64 labels {@code [N]}. */
    public static Tensor crossEntropy(Tensor logits, Tensor labels) {
        return crossEntropy(logits, labels, DEFAULT_IGNORE_INDEX, 0.0, Reduction.MEAN);
    }

    public static Tensor crossEntropy(Tensor logits, Tensor labels, Reduction reduction) {
        return crossEntropy(logits, labels, DEFAULT_IGNORE_INDEX, 0.0, reduction);
    }

    /**
     * Cross-entropy from logits {@code [N, C]} and INT64 class indices {@code [N]}, as
     * {@code F.cross_entropy}: per row {@code (1−ε)·(−log p_y) − (ε/C)·Σ_c log p_c} with
     * {@code p = softmax(logits)} computed stably (log-sum-exp) by the backend's fused op. Rows
     * labelled {@code ignoreIndex} contribute 0 and are not counted: {@link Reduction#MEAN} divides
     * by the number of the other rows (NaN when every row is ignored, as PyTorch), NONE returns
     * {@code [N]}.
     *
     * @param labelSmoothing ε in [0, 1]
     */
    public static Tensor crossEntropy(Tensor logits, Tensor labels, long ignoreIndex, double labelSmoothing,
            Reduction reduction) {
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException("crossEntropy: labelSmoothing must be in [0, 1], got "
                    + labelSmoothing);
        }
        checkReduction("crossEntropy", reduction);
        long counted = checkClassification("crossEntropy", "logits", logits, labels, ignoreIndex);
        Tensor perRow = Functional.crossEntropyPerRow(logits, labels, ignoreIndex, labelSmoothing); // [N]
        return reduceRows(perRow, counted, reduction);
    }

    // ---- negative log-likelihood -----------------------------------------------------------------

    /** Mean NLL of log-probabilities {@code [N, C]} against INT64 labels {@code [N]}. */
    public static Tensor nll(Tensor logProbs, Tensor labels) {
        return nll(logProbs, labels, DEFAULT_IGNORE_INDEX, Reduction.MEAN);
    }

    public static Tensor nll(Tensor logProbs, Tensor labels, Reduction reduction) {
        return nll(logProbs, labels, DEFAULT_IGNORE_INDEX, reduction);
    }

    /**
     * Negative log-likelihood, as {@code F.nll_loss}: per row {@code −logProbs[n, labels[n]]}, 0 for
     * rows labelled {@code ignoreIndex}; MEAN divides by the number of rows not ignored. Composed
     * from primitives (a one-hot mask built by comparing labels with {@code arange(C)}), so it works
     * for any input, not only a log-softmax.
     */
    public static Tensor nll(Tensor logProbs, Tensor labels, long ignoreIndex, Reduction reduction) {
        checkReduction("nll", reduction);
        long counted = checkClassification("nll", "logProbs", logProbs, labels, ignoreIndex);
        DType dt = logProbs.dtype();
        long c = logProbs.size(1);
        Tensor classes = logProbs.sinew().arange(c);                    // [C] INT64
        // [N, C]; a label equal to an ignoreIndex outside [0, C) matches no class, so its row is 0.
        Tensor oneHot = labels.unsqueeze(1).eq(classes).to(dt);
        if (ignoreIndex >= 0 && ignoreIndex < c) {
            oneHot = oneHot.mul(labels.ne((double) ignoreIndex).to(dt).unsqueeze(1)); // [N, C]
        }
        Tensor perRow = logProbs.mul(oneHot).sum(1, false).neg();       // [N]
        return reduceRows(perRow, counted, reduction);
    }

    // ---- binary cross-entropy --------------------------------------------------------------------

    /** Mean binary cross-entropy of {@code logits} against targets in [0, 1] of the same shape. */
    public static Tensor binaryCrossEntropyWithLogits(Tensor logits, Tensor targets) {
        return binaryCrossEntropyWithLogits(logits, targets, Reduction.MEAN);
    }

    /**
     * Binary cross-entropy on logits, as {@code F.binary_cross_entropy_with_logits}: per element
     * {@code log(1 + e^x) − x·y}, which equals PyTorch's stable form
     * {@code max(x, 0) − x·y + log(1 + e^(−|x|))}. The softplus is computed as
     * {@code −logSoftmax([0, x])[0]} by the backend's stable log-sum-exp, so it never overflows and its
     * gradient is exactly {@code σ(x) − y} everywhere — including {@code x = 0}, where the
     * {@code max}/{@code |x|} composition would give the subgradient {@code −y} instead.
     */
    public static Tensor binaryCrossEntropyWithLogits(Tensor logits, Tensor targets, Reduction reduction) {
        checkPair("binaryCrossEntropyWithLogits", "logits", logits, "targets", targets, reduction);
        long[] one = logits.unsqueeze(-1).dims();                            // [*, 1]
        Tensor zeros = logits.sinew().zeros(logits.dtype(), one);            // [*, 1]
        Tensor pair = Tensor.cat(-1, zeros, logits.unsqueeze(-1));           // [*, 2] = [0, x]
        Tensor softplus = pair.logSoftmax(-1).slice(-1, 0, 1).squeeze(-1).neg(); // [*] = log(1 + e^x)
        return reduceElementwise(softplus.sub(logits.mul(targets)), reduction);
    }

    // ---- checks and reductions -------------------------------------------------------------------

    private static void checkReduction(String loss, Reduction reduction) {
        if (reduction == null) {
            throw new IllegalArgumentException(loss + ": reduction must not be null (MEAN, SUM or NONE)");
        }
    }

    private static void checkOpen(String loss, String name, Tensor t) {
        if (t == null) {
            throw new IllegalArgumentException(loss + ": " + name + " is null");
        }
        if (t.isClosed()) {
            throw new IllegalStateException(loss + ": " + name + " " + t.shape() + " was already closed");
        }
    }

    /** Elementwise losses: same shape, same floating dtype. */
    private static void checkPair(String loss, String an, Tensor a, String bn, Tensor b, Reduction reduction) {
        checkReduction(loss, reduction);
        checkOpen(loss, an, a);
        checkOpen(loss, bn, b);
        if (!a.dtype().isFloating()) {
            throw new IllegalArgumentException(loss + ": " + an + " " + a.shape() + " must be floating, got "
                    + a.dtype());
        }
        if (a.dtype() != b.dtype()) {
            throw new IllegalArgumentException(loss + ": " + an + " " + a.shape() + " is " + a.dtype() + " but "
                    + bn + " " + b.shape() + " is " + b.dtype() + "; convert one with to(DType)");
        }
        if (!a.shape().equals(b.shape())) {
            throw new IllegalArgumentException(loss + ": " + an + " " + a.shape() + " and " + bn + " " + b.shape()
                    + " must have the same shape");
        }
    }

    /**
     * Checks {@code input [N, C]} and {@code labels [N]} (INT64, each in [0, C) or equal to
     * {@code ignoreIndex}); returns the number of rows not ignored.
     */
    private static long checkClassification(String loss, String inputName, Tensor input, Tensor labels,
            long ignoreIndex) {
        checkOpen(loss, inputName, input);
        checkOpen(loss, "labels", labels);
        if (input.rank() != 2) {
            throw new IllegalArgumentException(loss + ": " + inputName + " must be [N, C], got " + input.shape());
        }
        if (!input.dtype().isFloating()) {
            throw new IllegalArgumentException(loss + ": " + inputName + " " + input.shape()
                    + " must be floating, got " + input.dtype());
        }
        long n = input.size(0);
        long c = input.size(1);
        if (labels.dtype() != DType.INT64) {
            throw new IllegalArgumentException(loss + ": labels " + labels.shape()
                    + " must be INT64 class indices, got " + labels.dtype());
        }
        if (labels.rank() != 1 || labels.size(0) != n) {
            throw new IllegalArgumentException(loss + ": labels " + labels.shape() + " do not match " + inputName
                    + " " + input.shape() + ": need one label per row, [" + n + "]");
        }
        if (n == 0) {
            throw new IllegalArgumentException(loss + ": empty batch (" + inputName + " " + input.shape() + ")");
        }
        long[] ls = labels.toLongArray();
        long counted = 0;
        for (int i = 0; i < ls.length; i++) {
            long l = ls[i];
            if (l == ignoreIndex) {
                continue;
            }
            if (l < 0 || l >= c) {
                throw new IllegalArgumentException(loss + ": labels[" + i + "] = " + l + " is out of range [0, " + c
                        + ") for " + inputName + " " + input.shape()
                        + (ignoreIndex < 0 || ignoreIndex >= c ? " (ignoreIndex " + ignoreIndex + ")" : ""));
            }
            counted++;
        }
        return counted;
    }

    private static Tensor reduceElementwise(Tensor perElement, Reduction reduction) {
        return switch (reduction) {
            case NONE -> perElement;
            case SUM -> perElement.sum();
            case MEAN -> perElement.mean();
        };
    }

    /** Per-row classification losses: MEAN divides by the rows not ignored (NaN when none). */
    private static Tensor reduceRows(Tensor perRow, long counted, Reduction reduction) {
        return switch (reduction) {
            case NONE -> perRow;
            case SUM -> perRow.sum();
            case MEAN -> counted == 0 ? perRow.sum().mul(Double.NaN) : perRow.sum().div((double) counted);
        };
    }
}
