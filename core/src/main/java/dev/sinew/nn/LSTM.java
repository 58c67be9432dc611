package dev.sinew.nn;

import dev.sinew.Functional.RnnOutput;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.spi.FusedOps.RnnMode;

/**
 * A long short-term memory layer stack, as {@code torch.nn.LSTM}, gates i, f, g, o:
 * {@code c' = σ(f)⊙c + σ(i)⊙tanh(g)}, {@code h' = σ(o)⊙tanh(c')}, and with {@code projSize > 0}
 * {@code h' = W_hr·h'} (so h0 and hN are {@code [L·D, B, projSize]} and c0, cN
 * {@code [L·D, B, hiddenSize]}); PyTorch's options, parameter names and initialisation
 * ({@link RNNBase}). Not thread-safe.
 */
public final class LSTM extends RNNBase {
    /** One layer with PyTorch's defaults. */
    public LSTM(Sinew sn, long inputSize, long hiddenSize, Generator g) {
        this(sn, RnnOptions.of(inputSize, hiddenSize), g);
    }

    public LSTM(Sinew sn, RnnOptions options, Generator g) {
        super(sn, RnnMode.LSTM, options, g);
    }

    /** Output and final states from initial states {@code h0}, {@code c0} (each null: zeros). */
    public RnnOutput forward(Tensor x, Tensor h0, Tensor c0) {
        return run(x, h0, c0, null);
    }

    /** As {@link #forward(Tensor, Tensor, Tensor)} for sequences of the given lengths (see {@link RNNBase}). */
    public RnnOutput forward(Tensor x, Tensor h0, Tensor c0, long[] lengths) {
        return run(x, h0, c0, lengths);
    }
}
