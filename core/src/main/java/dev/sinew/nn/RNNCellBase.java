package dev.sinew.nn;

import dev.sinew.DType;
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
 * What {@link RNNCell}, {@link LSTMCell} and {@link GRUCell} share, as {@code torch.nn.RNNCellBase}:
 * one step of one layer, for step-by-step use (generation, one-to-many). Parameters and names as
 * PyTorch's cells: {@code weight_ih [G·H, inputSize]}, {@code weight_hh [G·H, H]}, {@code bias_ih},
 * {@code bias_hh [G·H]}, with the gate order of the layers ({@link RNNBase}); initialised from
 * U(−1/sqrt(H), 1/sqrt(H)) drawn from the given generator in that order.
 *
 * <p>A step is the fused recurrent op on a sequence of length 1, so a cell computes exactly what the
 * matching layer computes at each step, with the layer's explicit backward. Input {@code [B, inputSize]}
 * or unbatched {@code [inputSize]}; states {@code [B, H]} or {@code [H]}.
 *
 * <p>Ownership: the cell owns its parameters and frees them in {@link #close()}; the states it
 * returns belong to the scope open at the call. Not thread-safe.
 */
public abstract sealed class RNNCellBase extends Module permits RNNCell, LSTMCell, GRUCell {
    private final RnnParams params;
    private final List<Tensor> weights = new ArrayList<>();

    RNNCellBase(Sinew sn, RnnMode mode, long inputSize, long hiddenSize, boolean bias, DType dtype, Generator g) {
        String name = getClass().getSimpleName();
        if (sn == null || g == null) {
            throw new IllegalArgumentException(name + ": sinew and generator must not be null");
        }
        if (dtype == null || !dtype.isFloating()) {
            throw new IllegalArgumentException(name + ": parameters need a floating dtype, got " + dtype);
        }
        this.params = new RnnParams(mode, inputSize, hiddenSize, 0, 1, false, bias);
        double bound = 1.0 / Math.sqrt(hiddenSize);
        String[] names = bias ? new String[] {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}
                : new String[] {"weight_ih", "weight_hh"};
        List<long[]> shapes = params.weightShapes();
        for (int i = 0; i < names.length; i++) {
            weights.add(registerParameter(names[i], sn.uniform(g, -bound, bound, dtype, shapes.get(i))));
        }
    }

    public long inputSize() {
        return params.inputSize();
    }

    public long hiddenSize() {
        return params.hiddenSize();
    }

    /** The parameters in PyTorch's order (owned by this cell; read-only list). */
    public List<Tensor> weights() {
        return Collections.unmodifiableList(weights);
    }

    /** The new hidden state for input {@code x} from a zero state. */
    @Override
    public Tensor forward(Tensor x) {
        return step(x, null, null).hN();
    }

    /**
     * One step: the fused op on a length-1 sequence. Returns the new states, shaped like the input's
     * batch ({@code [B, H]}, or {@code [H]} unbatched), in {@code hN} and (LSTM) {@code cN}.
     */
    final RnnOutput step(Tensor x, Tensor h, Tensor c) {
        String name = getClass().getSimpleName() + "(" + params.inputSize() + ", " + params.hiddenSize() + ")";
        if (x == null) {
            throw new IllegalArgumentException(name + ": input is null");
        }
        if (x.rank() != 1 && x.rank() != 2) {
            throw new IllegalArgumentException(name + ": input must be [B, " + params.inputSize() + "] or ["
                    + params.inputSize() + "], got " + x.shape());
        }
        if (x.size(-1) != params.inputSize()) {
            throw new IllegalArgumentException(name + ": input " + x.shape() + " has " + x.size(-1)
                    + " features, expected input_size " + params.inputSize());
        }
        boolean unbatched = x.rank() == 1;
        Tensor xb = unbatched ? x.unsqueeze(0) : x;                       // [B, I]
        Tensor hb = state(name, "h", h, x, xb.size(0), unbatched);         // [B, H] or null
        Tensor cb = state(name, "c", c, x, xb.size(0), unbatched);
        RnnOutput o = Functional.rnn(params, xb.unsqueeze(0), hb == null ? null : hb.unsqueeze(0),
                cb == null ? null : cb.unsqueeze(0), weights, null, false, 0.0, null, false);
        Tensor hn = o.hN().squeeze(0);                                      // [B, H]
        Tensor cn = o.cN() == null ? null : o.cN().squeeze(0);
        if (unbatched) {
            hn = hn.squeeze(0);
            cn = cn == null ? null : cn.squeeze(0);
        }
        return new RnnOutput(hn, hn, cn);
    }

    private Tensor state(String name, String which, Tensor s, Tensor x, long batch, boolean unbatched) {
        if (s == null) {
            return null;
        }
        long[] want = unbatched ? new long[] {params.hiddenSize()} : new long[] {batch, params.hiddenSize()};
        if (!java.util.Arrays.equals(s.dims(), want)) {
            throw new IllegalArgumentException(name + ": state " + which + " has shape " + s.shape() + ", expected "
                    + java.util.Arrays.toString(want) + " for input " + x.shape());
        }
        return unbatched ? s.unsqueeze(0) : s;
    }

    @Override
    protected String extraRepr() {
        StringBuilder sb = new StringBuilder().append(params.inputSize()).append(", ").append(params.hiddenSize());
        if (!params.bias()) {
            sb.append(", bias=False");
        }
        if (params.mode() == RnnMode.RNN_RELU) {
            sb.append(", nonlinearity='relu'");
        }
        return sb.toString();
    }
}
