package dev.sinew.nn;

import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.spi.FusedOps.RnnMode;

/**
 * A gated recurrent unit layer stack, as {@code torch.nn.GRU}, gates r, z, n:
 * {@code r = σ(W_ir x + b_ir + W_hr h + b_hr)}, {@code z = σ(W_iz x + b_iz + W_hz h + b_hz)},
 * {@code n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))}, {@code h' = (1 − z) ⊙ n + z ⊙ h};
 * PyTorch's options, parameter names and initialisation ({@link RNNBase}). Not thread-safe.
 */
public final class GRU extends RNNBase {
    /** One layer with PyTorch's defaults. */
    public GRU(Sinew sn, long inputSize, long hiddenSize, Generator g) {
        this(sn, RnnOptions.of(inputSize, hiddenSize), g);
    }

    public GRU(Sinew sn, RnnOptions options, Generator g) {
        super(sn, RnnMode.GRU, options, g);
    }
}
