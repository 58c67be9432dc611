package dev.sinew.testing;

import dev.sinew.spi.FusedOps.RnnMode;
import dev.sinew.spi.FusedOps.RnnParams;
import java.util.Arrays;
import java.util.List;

/**
 * The recurrent configurations the SPI-level tests run (the conformance suite and the composed-default
 * tests): every mode, 1 and 2 layers, one and two directions, with and without biases, LSTM with a
 * projection, given or zero initial states, full and variable (unsorted) lengths, batch 1 and T = 1.
 * Immutable.
 */
public final class RnnCases {
    private RnnCases() {
    }

    /** One call: input {@code [t, b, p.inputSize()]}, whether h0/c0 are given, lengths or null. */
    public record Rnn(String name, RnnParams p, long t, long b, boolean h0, boolean c0, long[] lengths) {
        public long[] x() {
            return new long[] {t, b, p.inputSize()};
        }

        /** Terms of one gate pre-activation: input features + state features (+ the projection's H). */
        public long terms() {
            return p.layerInputSize(p.numLayers() - 1) + p.inputSize() + p.outSize() + p.hiddenSize();
        }

        @Override
        public String toString() {
            return name + " " + p + " T=" + t + " B=" + b + (h0 ? " h0" : "") + (c0 ? " c0" : "")
                    + (lengths == null ? "" : " lengths=" + Arrays.toString(lengths));
        }
    }

    private static RnnParams p(RnnMode m, long in, long h, long proj, int layers, boolean bidir, boolean bias) {
        return new RnnParams(m, in, h, proj, layers, bidir, bias);
    }

    public static final List<Rnn> ALL = List.of(
            new Rnn("tanh", p(RnnMode.RNN_TANH, 5, 7, 0, 1, false, true), 6, 3, false, false, null),
            new Rnn("tanh 2 layers bidir h0 lengths", p(RnnMode.RNN_TANH, 3, 4, 0, 2, true, true), 5, 3, true, false,
                    new long[] {5, 2, 4}),
            new Rnn("relu 2 layers bidir h0 lengths", p(RnnMode.RNN_RELU, 4, 5, 0, 2, true, true), 5, 3, true, false,
                    new long[] {3, 5, 1}),
            new Rnn("relu no bias", p(RnnMode.RNN_RELU, 3, 6, 0, 1, false, false), 4, 2, true, false, null),
            new Rnn("lstm h0 c0", p(RnnMode.LSTM, 4, 5, 0, 1, false, true), 6, 2, true, true, null),
            new Rnn("lstm 2 layers bidir lengths", p(RnnMode.LSTM, 3, 4, 0, 2, true, true), 5, 3, false, false,
                    new long[] {4, 5, 2}),
            new Rnn("lstm c0 only", p(RnnMode.LSTM, 2, 3, 0, 1, true, true), 3, 2, false, true, null),
            new Rnn("lstm proj 2 layers bidir lengths no bias", p(RnnMode.LSTM, 3, 5, 2, 2, true, false), 4, 3, true,
                    true, new long[] {1, 4, 3}),
            new Rnn("lstm proj", p(RnnMode.LSTM, 4, 6, 3, 1, false, true), 5, 2, true, true, null),
            new Rnn("lstm T=1 B=1", p(RnnMode.LSTM, 3, 4, 0, 1, false, true), 1, 1, true, true, null),
            new Rnn("gru lengths", p(RnnMode.GRU, 4, 5, 0, 1, false, true), 6, 3, false, false, new long[] {2, 6, 6}),
            new Rnn("gru 2 layers bidir h0", p(RnnMode.GRU, 3, 4, 0, 2, true, true), 4, 2, true, false, null),
            new Rnn("gru no bias 3 layers lengths", p(RnnMode.GRU, 2, 3, 0, 3, false, false), 5, 4, true, false,
                    new long[] {5, 1, 3, 2}));
}
