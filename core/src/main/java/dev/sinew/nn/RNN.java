package dev.sinew.nn;

import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.spi.FusedOps.RnnMode;

/**
 * An Elman recurrent layer stack, as {@code torch.nn.RNN}:
 * {@code h' = tanh(W_ih·x + b_ih + W_hh·h + b_hh)} (or ReLU), with PyTorch's options, parameter names
 * and initialisation ({@link RNNBase}). Not thread-safe.
 */
public final class RNN extends RNNBase {
    /** The activation of {@link RNN}. */
    public enum Nonlinearity {
        TANH, RELU
    }

    private final Nonlinearity nonlinearity;

    /** One tanh layer with PyTorch's defaults. */
    public RNN(Sinew sn, long inputSize, long hiddenSize, Generator g) {
        this(sn, RnnOptions.of(inputSize, hiddenSize), Nonlinearity.TANH, g);
    }

    public RNN(Sinew sn, RnnOptions options, Nonlinearity nonlinearity, Generator g) {
        super(sn, mode(nonlinearity), options, g);
        this.nonlinearity = nonlinearity;
    }

    private static RnnMode mode(Nonlinearity n) {
        if (n == null) {
            throw new IllegalArgumentException("RNN: nonlinearity must be TANH or RELU, got null");
        }
        return n == Nonlinearity.TANH ? RnnMode.RNN_TANH : RnnMode.RNN_RELU;
    }

    public Nonlinearity nonlinearity() {
        return nonlinearity;
    }
}
