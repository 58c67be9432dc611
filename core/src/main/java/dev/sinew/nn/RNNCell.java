package dev.sinew.nn;

import dev.sinew.DType;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.spi.FusedOps.RnnMode;

/**
 * One step of an Elman RNN, as {@code torch.nn.RNNCell}: {@code h' = tanh(W_ih·x + b_ih + W_hh·h + b_hh)}
 * (or ReLU). See {@link RNNCellBase}. Not thread-safe.
 */
public final class RNNCell extends RNNCellBase {
    /** A FLOAT32 tanh cell with biases. */
    public RNNCell(Sinew sn, long inputSize, long hiddenSize, Generator g) {
        this(sn, inputSize, hiddenSize, true, RNN.Nonlinearity.TANH, DType.FLOAT32, g);
    }

    public RNNCell(Sinew sn, long inputSize, long hiddenSize, boolean bias, RNN.Nonlinearity nonlinearity, DType dtype,
            Generator g) {
        super(sn, nonlinearity == RNN.Nonlinearity.RELU ? RnnMode.RNN_RELU : RnnMode.RNN_TANH, inputSize, hiddenSize,
                bias, dtype, g);
        if (nonlinearity == null) {
            throw new IllegalArgumentException("RNNCell: nonlinearity must be TANH or RELU, got null");
        }
    }

    /** The new hidden state from {@code h} (null: zeros). */
    public Tensor forward(Tensor x, Tensor h) {
        return step(x, h, null).hN();
    }
}
