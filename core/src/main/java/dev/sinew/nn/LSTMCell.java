package dev.sinew.nn;

import dev.sinew.DType;
import dev.sinew.Functional.RnnOutput;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.spi.FusedOps.RnnMode;

/**
 * One step of an LSTM, as {@code torch.nn.LSTMCell} (gates i, f, g, o; see {@link LSTM}). See
 * {@link RNNCellBase}. Not thread-safe.
 */
public final class LSTMCell extends RNNCellBase {
    /** The two states of an LSTM step, {@code [B, H]} each (or {@code [H]} unbatched). */
    public record State(Tensor h, Tensor c) {
    }

    /** A FLOAT32 cell with biases. */
    public LSTMCell(Sinew sn, long inputSize, long hiddenSize, Generator g) {
        this(sn, inputSize, hiddenSize, true, DType.FLOAT32, g);
    }

    public LSTMCell(Sinew sn, long inputSize, long hiddenSize, boolean bias, DType dtype, Generator g) {
        super(sn, RnnMode.LSTM, inputSize, hiddenSize, bias, dtype, g);
    }

    /** The new states from {@code state} (null: zeros). */
    public State forward(Tensor x, State state) {
        return forward(x, state == null ? null : state.h(), state == null ? null : state.c());
    }

    /** The new states from {@code h} and {@code c} (each null: zeros). */
    public State forward(Tensor x, Tensor h, Tensor c) {
        RnnOutput o = step(x, h, c);
        return new State(o.hN(), o.cN());
    }
}
