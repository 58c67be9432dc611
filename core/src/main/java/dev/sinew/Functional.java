package dev.sinew;

import dev.sinew.spi.View;

/**
 * Autograd-aware entry points to the fused ops that have no natural home on {@link Tensor}:
 * the fused softmax-cross-entropy and dropout. Losses and layers in {@code dev.sinew.nn} build on
 * these. Results follow the usual ownership rules (the current scope, or the caller).
 */
public final class Functional {
    private Functional() {
    }

    /**
     * Per-row cross-entropy of {@code logits [N, C]} against INT64 class indices {@code labels [N]},
     * with PyTorch's {@code ignore_index} and {@code label_smoothing}; returns {@code [N]} (ignored rows
     * are 0). The gradient flows to the logits through the fused backward.
     */
    public static Tensor crossEntropyPerRow(Tensor logits, Tensor labels, long ignoreIndex, double labelSmoothing) {
        if (logits.rank() != 2) {
            throw new IllegalArgumentException("crossEntropy: logits must be [N, C], got " + logits.shape());
        }
        if (!logits.dtype().isFloating()) {
            throw new IllegalArgumentException("crossEntropy: logits must be floating, got " + logits.dtype());
        }
        if (labels.dtype() != DType.INT64) {
            throw new IllegalArgumentException("crossEntropy: labels must be INT64 class indices, got "
                    + labels.shape() + " " + labels.dtype());
        }
        if (labels.rank() != 1 || labels.size(0) != logits.size(0)) {
            throw new IllegalArgumentException("crossEntropy: labels " + labels.shape() + " do not match logits "
                    + logits.shape() + " (need [" + logits.size(0) + "])");
        }
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException("crossEntropy: labelSmoothing must be in [0, 1], got "
                    + labelSmoothing);
        }
        if (labels.sinew() != logits.sinew()) {
            throw new IllegalArgumentException("crossEntropy: logits and labels belong to different Sinew contexts");
        }
        long n = logits.size(0);
        long c = logits.size(1);
        long[] lab = labels.toLongArray();
        for (int i = 0; i < lab.length; i++) {
            if (lab[i] != ignoreIndex && (lab[i] < 0 || lab[i] >= c)) {
                throw new IllegalArgumentException("crossEntropy: label " + lab[i] + " at row " + i
                        + " is out of range for " + c + " classes (logits " + logits.shape() + ")");
            }
        }
        Sinew sn = logits.sinew();
        Tensor x = logits.isContiguous() ? logits : logits.contiguous();
        Tensor lb = labels.isContiguous() ? labels : labels.contiguous();
        Tensor loss = sn.empty(logits.dtype(), new long[] {n});
        Tensor probs = sn.empty(logits.dtype(), new long[] {n, c});
        View pv = probs.storageView();
        sn.backend().softmaxCrossEntropy(x.storageView(), lb.storageView(), loss.storageView(), pv, ignoreIndex,
                labelSmoothing);
        return x.recordExternal(loss, "crossEntropy", g -> {
            Tensor gc = g.isContiguous() ? g : g.contiguous();
            Tensor d = sn.empty(logits.dtype(), new long[] {n, c});
            sn.backend().softmaxCrossEntropyBackward(probs.storageView(), lb.storageView(), gc.storageView(),
                    d.storageView(), ignoreIndex, labelSmoothing);
            return new Tensor[] {d};
        });
    }

    /**
     * Inverted dropout: in training, zeroes each element with probability {@code p} and scales the
     * rest by {@code 1/(1−p)}; in eval (or p = 0) returns {@code x} unchanged.
     */
    public static Tensor dropout(Tensor x, double p, Generator g, boolean training) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("dropout: p must be in [0, 1], got " + p);
        }
        if (!x.dtype().isFloating()) {
            throw new IllegalArgumentException("dropout: needs a floating tensor, got " + x.dtype());
        }
        if (!training || p == 0) {
            return x;
        }
        Sinew sn = x.sinew();
        if (p == 1) {
            return x.mul(0.0);
        }
        Tensor xc = x.isContiguous() ? x : x.contiguous();
        Tensor out = sn.empty(x.dtype(), x.dims());
        Tensor mask = sn.empty(x.dtype(), x.dims());
        sn.backend().dropout(xc.storageView(), out.storageView(), mask.storageView(), p, g.seed(),
                g.reserve(x.numel()));
        return xc.recordExternal(out, "dropout", gr -> new Tensor[] {gr.mul(mask)});
    }
}
