package dev.sinew.nn;

import dev.sinew.Tensor;

/**
 * Elementwise {@code tanh(x)}, as {@code torch.nn.Tanh}; any shape. Holds no parameters or state, so it
 * may be shared freely and is thread-safe.
 */
public final class Tanh extends Module {
    public Tanh() {
    }

    @Override
    public Tensor forward(Tensor x) {
        return x.tanh();
    }
}
