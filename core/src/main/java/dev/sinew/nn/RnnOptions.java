package dev.sinew.nn;

import dev.sinew.DType;

/**
 * The options of the recurrent layers ({@link RNN}, {@link LSTM}, {@link GRU},
 * {@link MinimalGatedUnit}), with PyTorch's names and defaults: one layer, with biases, time-major
 * ({@code batchFirst = false}), no dropout, one direction, no projection, FLOAT32 parameters.
 *
 * <pre>{@code
 * var opts = RnnOptions.of(128, 256).numLayers(2).bidirectional(true).batchFirst(true).dropout(0.2);
 * }</pre>
 *
 * <p>The one-argument methods return a modified copy. Values are checked by the layer that takes the
 * options (a projection only for LSTM, say). Immutable.
 *
 * @param inputSize     features of each input step
 * @param hiddenSize    features of the hidden state H
 * @param numLayers     stacked layers; layer l &gt; 0 reads layer l−1's output
 * @param bias          whether the layers have bias vectors
 * @param batchFirst    input and output {@code [B, T, ·]} instead of {@code [T, B, ·]} (states stay
 *                      {@code [L·D, B, ·]})
 * @param dropout       dropout probability on the outputs of every layer but the last, in training
 * @param bidirectional a second, reverse direction per layer, outputs concatenated
 * @param projSize      LSTM only: project the hidden state to this size (0: none)
 * @param dtype         the parameters' dtype
 */
public record RnnOptions(long inputSize, long hiddenSize, int numLayers, boolean bias, boolean batchFirst,
        double dropout, boolean bidirectional, long projSize, DType dtype) {

    public RnnOptions {
        if (inputSize < 1 || hiddenSize < 1) {
            throw new IllegalArgumentException("rnn options: input_size and hidden_size must be >= 1, got " + inputSize
                    + " and " + hiddenSize);
        }
        if (numLayers < 1) {
            throw new IllegalArgumentException("rnn options: num_layers must be >= 1, got " + numLayers);
        }
        if (!(dropout >= 0 && dropout <= 1)) {
            throw new IllegalArgumentException("rnn options: dropout must be in [0, 1], got " + dropout);
        }
        if (projSize < 0) {
            throw new IllegalArgumentException("rnn options: proj_size must be >= 0, got " + projSize);
        }
        if (dtype == null || !dtype.isFloating()) {
            throw new IllegalArgumentException("rnn options: parameters need a floating dtype, got " + dtype);
        }
    }

    /** PyTorch's defaults for the given sizes. */
    public static RnnOptions of(long inputSize, long hiddenSize) {
        return new RnnOptions(inputSize, hiddenSize, 1, true, false, 0.0, false, 0, DType.FLOAT32);
    }

    public RnnOptions numLayers(int v) {
        return new RnnOptions(inputSize, hiddenSize, v, bias, batchFirst, dropout, bidirectional, projSize, dtype);
    }

    public RnnOptions bias(boolean v) {
        return new RnnOptions(inputSize, hiddenSize, numLayers, v, batchFirst, dropout, bidirectional, projSize, dtype);
    }

    public RnnOptions batchFirst(boolean v) {
        return new RnnOptions(inputSize, hiddenSize, numLayers, bias, v, dropout, bidirectional, projSize, dtype);
    }

    public RnnOptions dropout(double v) {
        return new RnnOptions(inputSize, hiddenSize, numLayers, bias, batchFirst, v, bidirectional, projSize, dtype);
    }

    public RnnOptions bidirectional(boolean v) {
        return new RnnOptions(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, v, projSize, dtype);
    }

    public RnnOptions projSize(long v) {
        return new RnnOptions(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, v, dtype);
    }

    public RnnOptions dtype(DType v) {
        return new RnnOptions(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, projSize, v);
    }

    /** 1, or 2 when bidirectional. */
    public int directions() {
        return bidirectional ? 2 : 1;
    }
}
