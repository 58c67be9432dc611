package dev.sinew.nn;

import dev.sinew.Functional;
import dev.sinew.Functional.RnnOutput;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The minimal gated unit, exactly the seed's "minimal gated GRU": one gate Γ and a candidate state,
 * <pre>
 *   h~ = tanh(W x + U h + b)
 *   Γ  = σ(M x + O h + a)
 *   h' = Γ ⊙ h~ + (1 − Γ) ⊙ h
 * </pre>
 * stacked ({@code numLayers}), optionally bidirectional (outputs concatenated) and batch-first, with
 * dropout between layers and variable lengths exactly as {@link RNNBase} (outputs past a sequence's
 * end are 0; the final state is taken at its own last step; the reverse direction starts there).
 * {@code projSize} must be 0.
 *
 * <p>Parameters per layer l and direction (suffix {@code _reverse}), the two equations stacked with
 * the gate first, in the style of PyTorch's recurrent layers:
 * {@code weight_ih_l{l} [2H, in_l]} = [M; W], {@code weight_hh_l{l} [2H, H]} = [O; U] and, with bias,
 * {@code bias_l{l} [2H]} = [a; b]. Initialised from U(−1/sqrt(H), 1/sqrt(H)) like the others.
 *
 * <p>It is composed in core from tensor ops with autograd (one input-projection GEMM per layer and
 * direction for the whole sequence, then one recurrent GEMM and the gate math per step); the fused
 * op covers only the four cuDNN modes. Ownership: the layer owns its parameters and frees them in
 * {@link #close()}; it keeps the generator for dropout. Not thread-safe.
 */
public final class MinimalGatedUnit extends Module {
    private final RnnOptions options;
    private final Generator generator;
    private final List<Tensor> weights = new ArrayList<>();

    /** One layer with the defaults of {@link RnnOptions#of}. */
    public MinimalGatedUnit(Sinew sn, long inputSize, long hiddenSize, Generator g) {
        this(sn, RnnOptions.of(inputSize, hiddenSize), g);
    }

    public MinimalGatedUnit(Sinew sn, RnnOptions options, Generator g) {
        if (sn == null || options == null || g == null) {
            throw new IllegalArgumentException("MinimalGatedUnit: sinew, options and generator must not be null");
        }
        if (options.projSize() != 0) {
            throw new IllegalArgumentException("MinimalGatedUnit: proj_size is only for LSTM, got " + options.projSize());
        }
        this.options = options;
        this.generator = g;
        double bound = 1.0 / Math.sqrt(options.hiddenSize());
        List<String> names = weightNames(options);
        List<long[]> shapes = weightShapes(options);
        for (int i = 0; i < names.size(); i++) {
            weights.add(registerParameter(names.get(i), sn.uniform(g, -bound, bound, options.dtype(), shapes.get(i))));
        }
    }

    /** Parameter names in order: per layer, per direction, {@code weight_ih}, {@code weight_hh}, {@code bias}. */
    public static List<String> weightNames(RnnOptions o) {
        List<String> names = new ArrayList<>();
        for (int l = 0; l < o.numLayers(); l++) {
            for (int d = 0; d < o.directions(); d++) {
                String sfx = "_l" + l + (d == 1 ? "_reverse" : "");
                names.add("weight_ih" + sfx);
                names.add("weight_hh" + sfx);
                if (o.bias()) {
                    names.add("bias" + sfx);
                }
            }
        }
        return names;
    }

    /** Parameter shapes, in the order of {@link #weightNames}. */
    public static List<long[]> weightShapes(RnnOptions o) {
        List<long[]> shapes = new ArrayList<>();
        long h = o.hiddenSize();
        for (int l = 0; l < o.numLayers(); l++) {
            long in = l == 0 ? o.inputSize() : o.directions() * h;
            for (int d = 0; d < o.directions(); d++) {
                shapes.add(new long[] {2 * h, in});
                shapes.add(new long[] {2 * h, h});
                if (o.bias()) {
                    shapes.add(new long[] {2 * h});
                }
            }
        }
        return shapes;
    }

    public RnnOptions options() {
        return options;
    }

    /** The parameters in order (owned by this layer; read-only list). */
    public List<Tensor> weights() {
        return Collections.unmodifiableList(weights);
    }

    /** The output sequence from zero initial states. */
    @Override
    public Tensor forward(Tensor x) {
        return forward(x, null, null).output();
    }

    /** Output and final states {@code [L·D, B, H]} from {@code h0} (null: zeros). */
    public RnnOutput forward(Tensor x, Tensor h0) {
        return forward(x, h0, null);
    }

    /** As {@link #forward(Tensor, Tensor)} for sequences of the given lengths (null: all T). */
    public RnnOutput forward(Tensor x, Tensor h0, long[] lengths) {
        return apply(options, x, h0, weights, lengths, generator, isTraining());
    }

    /**
     * The minimal gated unit as a function of its parameters ({@link #weightNames} order), for
     * callers that hold the weights themselves (and for gradient checks). Shapes as {@link RNNBase};
     * {@code cN} of the result is null.
     */
    public static RnnOutput apply(RnnOptions o, Tensor x, Tensor h0, List<Tensor> weights, long[] lengths, Generator g,
            boolean training) {
        String op = "MinimalGatedUnit(" + o.inputSize() + ", " + o.hiddenSize() + ")";
        if (x == null || weights == null) {
            throw new IllegalArgumentException(op + ": input and weights must not be null");
        }
        if (x.rank() == 2) { // unbatched [T, I]
            if (h0 != null && h0.rank() != 2) {
                throw new IllegalArgumentException(op + ": for unbatched input " + x.shape() + " h0 must be ["
                        + (long) o.numLayers() * o.directions() + ", " + o.hiddenSize() + "], got " + h0.shape());
            }
            RnnOutput r = apply(o.batchFirst(false), x.unsqueeze(1), h0 == null ? null : h0.unsqueeze(1), weights,
                    lengths, g, training);
            return new RnnOutput(r.output().squeeze(1), r.hN().squeeze(1), null);
        }
        String layout = o.batchFirst() ? "[B, T, " + o.inputSize() + "]" : "[T, B, " + o.inputSize() + "]";
        if (x.rank() != 3 || x.size(2) != o.inputSize()) {
            throw new IllegalArgumentException(op + ": input " + x.shape() + " must be " + layout + " (input_size "
                    + o.inputSize() + ")");
        }
        Tensor xt = o.batchFirst() ? x.transpose(0, 1) : x;                 // [T, B, I]
        long t = xt.size(0);
        long b = xt.size(1);
        long h = o.hiddenSize();
        int dirs = o.directions();
        long[] hs = {(long) o.numLayers() * dirs, b, h};
        if (h0 != null && !Arrays.equals(h0.dims(), hs)) {
            throw new IllegalArgumentException(op + ": h0 has shape " + h0.shape() + ", expected " + Arrays.toString(hs)
                    + " (num_layers·directions, batch, hidden_size) for input " + x.shape() + " " + layout);
        }
        List<long[]> shapes = weightShapes(o);
        if (weights.size() != shapes.size()) {
            throw new IllegalArgumentException(op + ": expected " + shapes.size() + " weights " + weightNames(o)
                    + ", got " + weights.size());
        }
        for (int i = 0; i < shapes.size(); i++) {
            if (!Arrays.equals(weights.get(i).dims(), shapes.get(i))) {
                throw new IllegalArgumentException(op + ": " + weightNames(o).get(i) + " has shape "
                        + weights.get(i).shape() + ", expected " + Arrays.toString(shapes.get(i)));
            }
        }
        if (o.dropout() > 0 && training && o.numLayers() > 1 && g == null) {
            throw new IllegalArgumentException(op + ": dropout " + o.dropout() + " needs a generator");
        }
        Tensor mask = lengthMask(op, xt, lengths, x, layout);               // [T, B, 1] or null
        int perCell = o.bias() ? 3 : 2;
        Tensor zero = mask == null ? null : x.sinew().zeros(x.dtype(), 1);
        Tensor in = xt;
        Tensor out = null;
        Tensor[] finals = new Tensor[o.numLayers() * dirs];
        for (int l = 0; l < o.numLayers(); l++) {
            Tensor[] outs = new Tensor[dirs];
            for (int d = 0; d < dirs; d++) {
                int cell = l * dirs + d;
                Tensor wih = weights.get(cell * perCell);                    // [2H, in] = [M; W]
                Tensor whh = weights.get(cell * perCell + 1);                // [2H, H]  = [O; U]
                Tensor xg = in.matmul(wih.t());                              // [T, B, 2H], one GEMM
                if (o.bias()) {
                    xg = xg.add(weights.get(cell * perCell + 2));            // + [a; b]
                }
                Tensor state = h0 == null ? x.sinew().zeros(x.dtype(), b, h) : h0.slice(0, cell, cell + 1).squeeze(0);
                Tensor[] ys = new Tensor[(int) t];
                for (long s = 0; s < t; s++) {
                    long st = d == 0 ? s : t - 1 - s;
                    Tensor a = xg.slice(0, st, st + 1).squeeze(0).add(state.matmul(whh.t())); // [B, 2H]
                    Tensor gate = a.slice(1, 0, h).sigmoid();                // Γ
                    Tensor cand = a.slice(1, h, 2 * h).tanh();               // h~
                    Tensor next = state.add(gate.mul(cand.sub(state)));      // Γ⊙h~ + (1−Γ)⊙h
                    Tensor y = next;
                    if (mask != null) {
                        Tensor m = mask.slice(0, st, st + 1).squeeze(0);     // [B, 1]
                        y = Tensor.where(m, next, zero);                    // +0 past the end
                        next = Tensor.where(m, next, state);
                    }
                    ys[(int) st] = y.unsqueeze(0);
                    state = next;
                }
                outs[d] = Tensor.cat(0, ys);                                 // [T, B, H]
                finals[cell] = state.unsqueeze(0);
            }
            out = dirs == 1 ? outs[0] : Tensor.cat(2, outs);                 // [T, B, D·H]
            in = l < o.numLayers() - 1 ? Functional.dropout(out, o.dropout(), g, training) : out;
        }
        Tensor hN = Tensor.cat(0, finals);
        return new RnnOutput(o.batchFirst() ? out.transpose(0, 1) : out, hN, null);
    }

    /** A {@code [T, B, 1]} 1/0 mask of the steps inside each sequence, after checking the lengths. */
    static Tensor lengthMask(String op, Tensor xt, long[] lengths, Tensor x, String layout) {
        if (lengths == null) {
            return null;
        }
        long t = xt.size(0);
        long b = xt.size(1);
        if (lengths.length != b) {
            throw new IllegalArgumentException(op + ": lengths has " + lengths.length + " entries but input "
                    + x.shape() + " " + layout + " holds a batch of " + b + " sequences");
        }
        double[] m = new double[Math.toIntExact(t * b)];
        for (int i = 0; i < b; i++) {
            if (lengths[i] < 1 || lengths[i] > t) {
                throw new IllegalArgumentException(op + ": lengths[" + i + "] = " + lengths[i]
                        + (lengths[i] < 1 ? " is a sequence of length 0 (every sequence needs at least one step)"
                                : " is longer than the " + t + " steps of input " + x.shape() + " " + layout));
            }
            for (long s = 0; s < lengths[i]; s++) {
                m[(int) (s * b + i)] = 1;
            }
        }
        return x.sinew().fromArray(m, t, b, 1).to(x.dtype());
    }

    @Override
    protected String extraRepr() {
        StringBuilder sb = new StringBuilder().append(options.inputSize()).append(", ").append(options.hiddenSize());
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
