package dev.sinew.nn;

import dev.sinew.Tensor;

/**
 * Elementwise {@code 1 / (1 + exp(−x))}, as {@code torch.nn.Sigmoid}; any shape. Holds no parameters or state, so it
 * may be shared freely and is thread-safe.
 */
public final class Sigmoid extends Module {
    public Sigmoid() {
    }

    @Override
    public Tensor forward(Tensor x) {
        return x.sigmoid();
    }
}
