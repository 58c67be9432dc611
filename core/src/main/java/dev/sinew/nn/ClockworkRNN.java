package dev.sinew.nn;

import dev.sinew.DType;
import dev.sinew.Functional.RnnOutput;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The Clockwork RNN of the seed (Koutník et al., 2014): the hidden layer of {@code n = k·g} units
 * is split into {@code g} modules of {@code k} units; module i has clock period {@code T_i}
 * (default {@code 2^i} for i = 0 … g−1, i.e. the seed's {@code 2^(i−1)} counting from 1). At step
 * {@code t} only the modules with {@code t mod T_i == 0} update,
 * {@code h_i' = tanh(W_x,i · x_t + b_i + Σ_{j ≥ i} W_h,ij · h_j)}; the others keep their state
 * exactly. Steps count from {@code startStep} (0 by default, so every module updates at the first
 * step); a caller that cuts a long sequence into chunks passes the global step so the clocks run on.
 *
 * <p>Modules are ordered by strictly increasing period, and module i reads only modules j with
 * {@code T_j ≥ T_i}, i.e. j ≥ i: the recurrent matrix is block upper-triangular. It is stored as its
 * block rows only, {@code weight_hh_i [k, (g−i)·k]} (the blocks of modules i … g−1), so the masked
 * blocks cost neither memory nor FLOPs: hidden-to-hidden parameters number
 * {@code k²·g(g+1)/2}, plus {@code weight_ih [n, inputSize]} (W_x, whose block row i feeds module i)
 * and {@code bias [n]}. All are initialised from U(−1/sqrt(n), 1/sqrt(n)).
 *
 * <p>Shapes: input {@code [T, B, inputSize]} (batch-first {@code [B, T, inputSize]}); output
 * {@code [T, B, n]} (every step's full hidden state); states {@code [1, B, n]}. Composed in core from
 * tensor ops with autograd: one input-projection GEMM for the whole sequence, then per step one GEMM
 * per updating module.
 *
 * <p>Ownership: the layer owns its parameters and frees them in {@link #close()}. Not thread-safe.
 */
public final class ClockworkRNN extends Module {
    private final long inputSize;
    private final long moduleSize;
    private final int modules;
    private final long[] periods;
    private final boolean batchFirst;
    private final List<Tensor> weights = new ArrayList<>();

    /** FLOAT32, time-major, periods 1, 2, 4, …. */
    public ClockworkRNN(Sinew sn, long inputSize, long moduleSize, int modules, Generator g) {
        this(sn, inputSize, moduleSize, modules, null, false, DType.FLOAT32, g);
    }

    /**
     * @param periods the clock period of each module, strictly increasing, ≥ 1; null for 1, 2, 4, …
     */
    public ClockworkRNN(Sinew sn, long inputSize, long moduleSize, int modules, long[] periods, boolean batchFirst,
            DType dtype, Generator g) {
        String name = "ClockworkRNN(" + inputSize + ", " + moduleSize + " x " + modules + ")";
        if (sn == null || g == null) {
            throw new IllegalArgumentException(name + ": sinew and generator must not be null");
        }
        if (inputSize < 1 || moduleSize < 1 || modules < 1) {
            throw new IllegalArgumentException(name + ": input size, module size and module count must be >= 1");
        }
        if (dtype == null || !dtype.isFloating()) {
            throw new IllegalArgumentException(name + ": parameters need a floating dtype, got " + dtype);
        }
        this.inputSize = inputSize;
        this.moduleSize = moduleSize;
        this.modules = modules;
        this.periods = checkPeriods(name, modules, periods);
        this.batchFirst = batchFirst;
        long n = moduleSize * modules;
        double bound = 1.0 / Math.sqrt(n);
        List<String> names = weightNames(modules);
        List<long[]> shapes = weightShapes(inputSize, moduleSize, modules);
        for (int i = 0; i < names.size(); i++) {
            weights.add(registerParameter(names.get(i), sn.uniform(g, -bound, bound, dtype, shapes.get(i))));
        }
    }

    private static long[] checkPeriods(String name, int modules, long[] periods) {
        if (periods == null) {
            if (modules > 62) {
                throw new IllegalArgumentException(name + ": default periods 2^i overflow beyond 62 modules");
            }
            long[] p = new long[modules];
            for (int i = 0; i < modules; i++) {
                p[i] = 1L << i;
            }
            return p;
        }
        if (periods.length != modules) {
            throw new IllegalArgumentException(name + ": " + periods.length + " periods for " + modules + " modules");
        }
        for (int i = 0; i < modules; i++) {
            if (periods[i] < 1 || (i > 0 && periods[i] <= periods[i - 1])) {
                throw new IllegalArgumentException(name + ": periods must be >= 1 and strictly increasing (modules "
                        + "ordered from fast to slow), got " + Arrays.toString(periods));
            }
        }
        return periods.clone();
    }

    /** {@code weight_ih}, {@code bias}, then {@code weight_hh_0} … {@code weight_hh_(g−1)}. */
    public static List<String> weightNames(int modules) {
        List<String> names = new ArrayList<>(List.of("weight_ih", "bias"));
        for (int i = 0; i < modules; i++) {
            names.add("weight_hh_" + i);
        }
        return names;
    }

    /** {@code [n, inputSize]}, {@code [n]}, then {@code [k, (g−i)·k]} for module i. */
    public static List<long[]> weightShapes(long inputSize, long moduleSize, int modules) {
        long n = moduleSize * modules;
        List<long[]> shapes = new ArrayList<>();
        shapes.add(new long[] {n, inputSize});
        shapes.add(new long[] {n});
        for (int i = 0; i < modules; i++) {
            shapes.add(new long[] {moduleSize, (modules - i) * moduleSize});
        }
        return shapes;
    }

    public long inputSize() {
        return inputSize;
    }

    public long moduleSize() {
        return moduleSize;
    }

    public int modules() {
        return modules;
    }

    /** The hidden size n = k·g. */
    public long hiddenSize() {
        return moduleSize * modules;
    }

    public long[] periods() {
        return periods.clone();
    }

    /** The parameters in {@link #weightNames} order (owned by this layer; read-only list). */
    public List<Tensor> weights() {
        return Collections.unmodifiableList(weights);
    }

    /** Whether module {@code i} updates at step {@code t}. */
    public boolean updates(int i, long t) {
        return Math.floorMod(t, periods[i]) == 0;
    }

    /** Every step's hidden state, from a zero state, counting steps from 0. */
    @Override
    public Tensor forward(Tensor x) {
        return forward(x, null, 0).output();
    }

    /** Output and final state {@code [1, B, n]} from {@code h0} (null: zeros), steps counted from {@code startStep}. */
    public RnnOutput forward(Tensor x, Tensor h0, long startStep) {
        return apply(inputSize, moduleSize, periods, batchFirst, x, h0, startStep, weights);
    }

    /**
     * The clockwork RNN as a function of its parameters ({@link #weightNames} order), for callers that
     * hold the weights themselves (and gradient checks). {@code cN} of the result is null.
     */
    public static RnnOutput apply(long inputSize, long moduleSize, long[] periods, boolean batchFirst, Tensor x,
            Tensor h0, long startStep, List<Tensor> weights) {
        int g = periods.length;
        long k = moduleSize;
        long n = k * g;
        String op = "ClockworkRNN(" + inputSize + ", " + k + " x " + g + ")";
        String layout = batchFirst ? "[B, T, " + inputSize + "]" : "[T, B, " + inputSize + "]";
        if (x == null || x.rank() != 3 || x.size(2) != inputSize) {
            throw new IllegalArgumentException(op + ": input " + (x == null ? "null" : x.shape()) + " must be " + layout
                    + " (input_size " + inputSize + ")");
        }
        Tensor xt = batchFirst ? x.transpose(0, 1) : x;                      // [T, B, I]
        long t = xt.size(0);
        long b = xt.size(1);
        if (h0 != null && !Arrays.equals(h0.dims(), new long[] {1, b, n})) {
            throw new IllegalArgumentException(op + ": h0 has shape " + h0.shape() + ", expected [1, " + b + ", " + n
                    + "] for input " + x.shape() + " " + layout);
        }
        List<long[]> shapes = weightShapes(inputSize, k, g);
        if (weights == null || weights.size() != shapes.size()) {
            throw new IllegalArgumentException(op + ": expected " + shapes.size() + " weights " + weightNames(g));
        }
        for (int i = 0; i < shapes.size(); i++) {
            if (!Arrays.equals(weights.get(i).dims(), shapes.get(i))) {
                throw new IllegalArgumentException(op + ": " + weightNames(g).get(i) + " has shape "
                        + weights.get(i).shape() + ", expected " + Arrays.toString(shapes.get(i)));
            }
        }
        Tensor xw = xt.matmul(weights.get(0).t()).add(weights.get(1));      // [T, B, n], one GEMM
        Tensor state = h0 == null ? x.sinew().zeros(x.dtype(), b, n) : h0.squeeze(0); // [B, n]
        Tensor[] ys = new Tensor[(int) t];
        for (long s = 0; s < t; s++) {
            long step = startStep + s;
            Tensor[] parts = new Tensor[g]; // a new array per step: the tape keeps cat's argument array
            Tensor xs = xw.slice(0, s, s + 1).squeeze(0);                     // [B, n]
            for (int i = 0; i < g; i++) {
                Tensor hi = state.slice(1, i * k, (i + 1) * k);               // [B, k]
                if (Math.floorMod(step, periods[i]) != 0) {
                    parts[i] = hi;                                            // not its tick: kept as is
                    continue;
                }
                Tensor reads = state.slice(1, i * k, n);                      // modules i … g−1, [B, (g−i)·k]
                Tensor a = xs.slice(1, i * k, (i + 1) * k).add(reads.matmul(weights.get(2 + i).t()));
                parts[i] = a.tanh();
            }
            state = g == 1 ? parts[0] : Tensor.cat(1, parts);
            ys[(int) s] = state.unsqueeze(0);
        }
        Tensor out = Tensor.cat(0, ys);                                        // [T, B, n]
        return new RnnOutput(batchFirst ? out.transpose(0, 1) : out, state.unsqueeze(0), null);
    }

    @Override
    protected String extraRepr() {
        return inputSize + ", module_size=" + moduleSize + ", modules=" + modules + ", periods="
                + Arrays.toString(periods) + (batchFirst ? ", batch_first=True" : "");
    }
}
