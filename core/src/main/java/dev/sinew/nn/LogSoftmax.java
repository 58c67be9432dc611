package dev.sinew.nn;

import dev.sinew.Tensor;

/**
 * {@code x − log Σ exp(x)} along one dimension, computed stably, as {@code torch.nn.LogSoftmax(dim)}. Holds no
 * parameters or state; thread-safe.
 */
public final class LogSoftmax extends Module {
    private final int dim;

    /** Normalises along {@code dim} (negative counts from the end; {@code -1} is the usual choice). */
    public LogSoftmax(int dim) {
        this.dim = dim;
    }

    public int dim() {
        return dim;
    }

    @Override
    public Tensor forward(Tensor x) {
        return x.logSoftmax(dim);
    }

    @Override
    protected String extraRepr() {
        return "dim=" + dim;
    }
}
