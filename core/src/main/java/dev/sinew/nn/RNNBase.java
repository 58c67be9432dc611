package dev.sinew.nn;

import dev.sinew.Functional;
import dev.sinew.Functional.RnnOutput;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.spi.FusedOps.RnnMode;
import dev.sinew.spi.FusedOps.RnnParams;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What {@link RNN}, {@link LSTM} and {@link GRU} share, as {@code torch.nn.RNNBase}: PyTorch's
 * parameters and names ({@code weight_ih_l{k}[_reverse]}, {@code weight_hh_l{k}[_reverse]},
 * {@code bias_ih_l{k}[_reverse]}, {@code bias_hh_l{k}[_reverse]}, LSTM's {@code weight_hr_l{k}[_reverse]},
 * in PyTorch's order), so state dicts move between the two unchanged, and the forward through the
 * fused whole-sequence op ({@link Functional#rnn}).
 *
 * <p>Initialisation is PyTorch's: every parameter from U(−1/sqrt(H), 1/sqrt(H)), H the hidden size,
 * drawn from the given {@link Generator} in parameter order. Dropout masks between layers are drawn
 * from the same generator, which the layer keeps (so it is not thread-safe, like {@link Dropout}).
 *
 * <p>Shapes ({@code D} directions, {@code L} layers, {@code P} the state size: hidden size, or LSTM's
 * projection size): input {@code [T, B, inputSize]} ({@code [B, T, inputSize]} batch-first, or
 * unbatched {@code [T, inputSize]}); output {@code [T, B, D·P]} (batch-first {@code [B, T, D·P]});
 * states {@code [L·D, B, P]} (cell states {@code [L·D, B, H]}) whatever the batch layout.
 *
 * <p>Ownership: the layer owns its parameters and frees them, with their gradients, in
 * {@link #close()}; outputs and final states belong to the scope open at the call. Not thread-safe.
 */
public abstract sealed class RNNBase extends Module permits RNN, LSTM, GRU {
    private final RnnOptions options;
    private final RnnParams params;
    private final Generator generator;
    private final List<Tensor> weights = new ArrayList<>();

    RNNBase(Sinew sn, RnnMode mode, RnnOptions options, Generator g) {
        if (sn == null || options == null || g == null) {
            throw new IllegalArgumentException(mode + ": sinew, options and generator must not be null");
        }
        this.options = options;
        this.params = new RnnParams(mode, options.inputSize(), options.hiddenSize(), options.projSize(),
                options.numLayers(), options.bidirectional(), options.bias());
        this.generator = g;
        double bound = 1.0 / Math.sqrt(options.hiddenSize());
        List<String> names = params.weightNames();
        List<long[]> shapes = params.weightShapes();
        for (int i = 0; i < names.size(); i++) {
            weights.add(registerParameter(names.get(i), sn.uniform(g, -bound, bound, options.dtype(), shapes.get(i))));
        }
    }

    /** The options this layer was made with. */
    public RnnOptions options() {
        return options;
    }

    /** The fused op's configuration. */
    public RnnParams params() {
        return params;
    }

    /** The parameters in PyTorch's order (owned by this layer; read-only list). */
    public List<Tensor> weights() {
        return Collections.unmodifiableList(weights);
    }

    /** The output sequence for zero initial states (the final states are dropped). */
    @Override
    public Tensor forward(Tensor x) {
        return run(x, null, null, null).output();
    }

    /** Output and final state(s) from initial hidden state {@code h0} (null: zeros). */
    public RnnOutput forward(Tensor x, Tensor h0) {
        return run(x, h0, null, null);
    }

    /**
     * Output and final state(s) for a batch of sequences of the given {@code lengths} (null: all T),
     * as PyTorch's packed sequences: outputs past a sequence's end are 0, its final state is the one at
     * its own last step, and the reverse direction starts there.
     */
    public RnnOutput forward(Tensor x, Tensor h0, long[] lengths) {
        return run(x, h0, null, lengths);
    }

    /** The fused call with this layer's parameters, options and training mode. */
    final RnnOutput run(Tensor x, Tensor h0, Tensor c0, long[] lengths) {
        if (x == null) {
            throw new IllegalArgumentException(params.mode() + ": input is null");
        }
        return Functional.rnn(params, x, h0, c0, weights, lengths, options.batchFirst(), options.dropout(), generator,
                isTraining());
    }

    @Override
    protected String extraRepr() {
        StringBuilder sb = new StringBuilder().append(options.inputSize()).append(", ").append(options.hiddenSize());
        if (this instanceof RNN r && r.nonlinearity() != RNN.Nonlinearity.TANH) {
            sb.append(", nonlinearity='relu'");
        }
        if (options.projSize() > 0) {
            sb.append(", proj_size=").append(options.projSize());
        }
        if (options.numLayers() != 1) {
            sb.append(", num_layers=").append(options.numLayers());
        }
        if (!options.bias()) {
            sb.append(", bias=False");
        }
        if (options.batchFirst()) {
            sb.append(", batch_first=True");
        }
        if (options.dropout() != 0) {
            sb.append(", dropout=").append(options.dropout());
        }
        if (options.bidirectional()) {
            sb.append(", bidirectional=True");
        }
        return sb.toString();
    }
}
