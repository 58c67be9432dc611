package dev.sinew.nn;

import dev.sinew.Tensor;

/**
 * Elementwise {@code max(x, 0)}, as {@code torch.nn.ReLU}; any shape. Holds no parameters or state, so it
 * may be shared freely and is thread-safe.
 */
public final class ReLU extends Module {
    public ReLU() {
    }

    @Override
    public Tensor forward(Tensor x) {
        return x.relu();
    }
}
