package dev.sinew.spi;

import java.util.List;

/**
 * Default implementations of the {@link FusedOps}, composed from a backend's primitive ops.
 * Temporaries are allocated from the same backend and released before returning.
 */
final class Composed {
    private Composed() {
    }

    static void softmax(Backend b, View x, View out, boolean log) {
        throw new UnsupportedOperationException("TODO");
    }

    static void softmaxBackward(Backend b, View y, View dy, View dx, boolean log) {
        throw new UnsupportedOperationException("TODO");
    }

    static void softmaxCrossEntropy(Backend b, View logits, View labels, View loss, View probs, long ignoreIndex,
            double labelSmoothing) {
        throw new UnsupportedOperationException("TODO");
    }

    static void softmaxCrossEntropyBackward(Backend b, View probs, View labels, View dLoss, View dLogits,
            long ignoreIndex, double labelSmoothing) {
        throw new UnsupportedOperationException("TODO");
    }

    static void dropout(Backend b, View x, View out, View mask, double p, long seed, long offset) {
        throw new UnsupportedOperationException("TODO");
    }

    static void sgdStep(Backend b, List<View> params, List<View> grads, List<View> momentum,
            FusedOps.SgdConfig cfg) {
        throw new UnsupportedOperationException("TODO");
    }

    static void adamStep(Backend b, List<View> params, List<View> grads, List<View> m, List<View> v,
            FusedOps.AdamConfig cfg) {
        throw new UnsupportedOperationException("TODO");
    }

    static void rmspropStep(Backend b, List<View> params, List<View> grads, List<View> squareAvg,
            List<View> momentumBuf, List<View> gradAvg, FusedOps.RmsPropConfig cfg) {
        throw new UnsupportedOperationException("TODO");
    }
}
