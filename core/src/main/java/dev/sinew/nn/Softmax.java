package dev.sinew.nn;

import dev.sinew.Tensor;

/**
 * {@code exp(x) / Σ exp(x)} along one dimension, computed stably, as {@code torch.nn.Softmax(dim)}. Holds no
 * parameters or state; thread-safe.
 */
public final class Softmax extends Module {
    private final int dim;

    /** Normalises along {@code dim} (negative counts from the end; {@code -1} is the usual choice). */
    public Softmax(int dim) {
        this.dim = dim;
    }

    public int dim() {
        return dim;
    }

    @Override
    public Tensor forward(Tensor x) {
        return x.softmax(dim);
    }

    @Override
    protected String extraRepr() {
        return "dim=" + dim;
    }
}
