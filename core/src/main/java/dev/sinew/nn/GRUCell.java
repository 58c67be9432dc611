package dev.sinew.nn;

import dev.sinew.DType;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.spi.FusedOps.RnnMode;

/**
 * One step of a GRU, as {@code torch.nn.GRUCell} (gates r, z, n; see {@link GRU}). See
 * {@link RNNCellBase}. Not thread-safe.
 */
public final class GRUCell extends RNNCellBase {
    /** A FLOAT32 cell with biases. */
    public GRUCell(Sinew sn, long inputSize, long hiddenSize, Generator g) {
        this(sn, inputSize, hiddenSize, true, DType.FLOAT32, g);
    }

    public GRUCell(Sinew sn, long inputSize, long hiddenSize, boolean bias, DType dtype, Generator g) {
        super(sn, RnnMode.GRU, inputSize, hiddenSize, bias, dtype, g);
    }

    /** The new hidden state from {@code h} (null: zeros). */
    public Tensor forward(Tensor x, Tensor h) {
        return step(x, h, null).hN();
    }
}
