package dev.sinew.train;

import dev.sinew.Scope;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.optim.GradClip;
import dev.sinew.optim.Optimizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Truncated back-propagation through time (the seed's k-step BPTT): a long sequence is processed in
 * consecutive chunks of {@code k} steps; the recurrent state is carried from one chunk into the next
 * with its history cut (so gradients never flow back past the start of a chunk), and the parameters
 * are updated after every chunk:
 * <pre>
 *   state = initial (null: the model starts from zeros)
 *   for each chunk [s, s + k) of the sequence:
 *     zero the gradients
 *     (loss, state') = step(inputs[s : s+k], targets[s : s+k], state)
 *     loss.backward(); optionally clip the gradients to a global norm; optimizer.step()
 *     state = state' detached
 * </pre>
 * The last chunk may be shorter. The model is a {@link ChunkStep}: any forward that takes the carried
 * state (a list of tensors, e.g. {@code [h]} or {@code [h, c]}) and returns the chunk's scalar loss and
 * its final state; the {@link Chunk} also says where the chunk starts, for models with a clock such as
 * {@link dev.sinew.nn.ClockworkRNN}.
 *
 * <pre>{@code
 * var tbptt = new TruncatedBptt(35, optimizer).clipGradNorm(0.25);
 * var result = tbptt.run(inputs, targets, 0, null, chunk -> {
 *     var o = lstm.forward(chunk.inputs(), chunk.state() == null ? null : chunk.state().get(0),
 *             chunk.state() == null ? null : chunk.state().get(1));
 *     Tensor loss = Losses.crossEntropy(head.forward(o.output()).reshape(-1, vocab), chunk.targets().reshape(-1));
 *     return new TruncatedBptt.ChunkResult(loss, List.of(o.hN(), o.cN()));
 * });
 * }</pre>
 *
 * <p>Ownership: every chunk runs in its own {@link dev.sinew.Scope}, so its temporaries are freed when it ends.
 * The carried state is a detached copy owned by this utility between chunks; the final one is handed
 * to the caller in {@link Result#finalState()}, who closes it (or passes it as the next run's initial
 * state, which the caller keeps owning). The caller keeps the inputs, targets, initial state, model and
 * optimiser. Not thread-safe; a run uses the thread it is called on.
 */
public final class TruncatedBptt {
    private final int k;
    private final Optimizer optimizer;
    private final double maxNorm;

    /** Chunks of {@code k} steps, one {@code optimizer} step after each, no clipping. */
    public TruncatedBptt(int k, Optimizer optimizer) {
        this(k, optimizer, Double.NaN);
    }

    private TruncatedBptt(int k, Optimizer optimizer, double maxNorm) {
        if (k < 1) {
            throw new IllegalArgumentException("TruncatedBptt: k (steps per chunk) must be >= 1, got " + k);
        }
        if (optimizer == null) {
            throw new IllegalArgumentException("TruncatedBptt: optimizer must not be null");
        }
        this.k = k;
        this.optimizer = optimizer;
        this.maxNorm = maxNorm;
    }

    /**
     * A copy that, before each update, scales all gradients of the optimiser's parameters together so
     * that their global L2 norm is at most {@code maxNorm} ({@link GradClip#clipGradNorm}).
     */
    public TruncatedBptt clipGradNorm(double maxNorm) {
        if (!(maxNorm > 0) || Double.isInfinite(maxNorm)) {
            throw new IllegalArgumentException("TruncatedBptt: maxNorm must be finite and > 0, got " + maxNorm);
        }
        return new TruncatedBptt(k, optimizer, maxNorm);
    }

    public int k() {
        return k;
    }

    /** One chunk handed to the model: its index, its first step in the whole sequence, its slices and the carried state. */
    public record Chunk(int index, long start, Tensor inputs, Tensor targets, List<Tensor> state) {
    }

    /** What the model returns for a chunk: a scalar loss to minimise and the state to carry on. */
    public record ChunkResult(Tensor loss, List<Tensor> state) {
    }

    /** The model's forward over one chunk. */
    @FunctionalInterface
    public interface ChunkStep {
        ChunkResult apply(Chunk chunk);
    }

    /**
     * The loss of every chunk (before its update) and the final carried state (detached, owned by the
     * caller; null if the model returned none).
     */
    public record Result(double[] chunkLosses, List<Tensor> finalState) {
        /** The plain mean of the chunk losses (each chunk counts once, whatever its length). */
        public double meanLoss() {
            double s = 0;
            for (double l : chunkLosses) {
                s += l;
            }
            return chunkLosses.length == 0 ? Double.NaN : s / chunkLosses.length;
        }
    }

    /**
     * Runs the whole sequence.
     *
     * @param inputs       the sequence, time along {@code timeAxis}
     * @param targets      the targets, time along the same axis with the same length (may be null if the
     *                     model needs none)
     * @param timeAxis     the time axis (0 for {@code [T, B, …]}, 1 for batch-first)
     * @param initialState the state before the first step (kept by the caller), or null
     * @param step         the model's forward over one chunk
     */
    public Result run(Tensor inputs, Tensor targets, int timeAxis, List<Tensor> initialState, ChunkStep step) {
        if (inputs == null || step == null) {
            throw new IllegalArgumentException("TruncatedBptt: inputs and step must not be null");
        }
        int axis = inputs.shape().axis(timeAxis);
        long t = inputs.size(axis);
        if (targets != null && (targets.rank() <= axis || targets.size(axis) != t)) {
            throw new IllegalArgumentException("TruncatedBptt: targets " + targets.shape() + " do not have the "
                    + t + " steps of inputs " + inputs.shape() + " along axis " + axis);
        }
        Sinew sn = inputs.sinew();
        int chunks = (int) ((t + k - 1) / k);
        double[] losses = new double[chunks];
        List<Tensor> carried = initialState;   // owned by the caller at first, then by this utility
        boolean own = false;
        try {
            for (int c = 0; c < chunks; c++) {
                long start = (long) c * k;
                long end = Math.min(start + k, t);
                List<Tensor> next;
                try (var _ = sn.scope()) {
                    optimizer.zeroGrad();
                    Tensor xi = inputs.slice(axis, start, end);
                    Tensor ti = targets == null ? null : targets.slice(axis, start, end);
                    ChunkResult r = step.apply(new Chunk(c, start, xi, ti, carried));
                    if (r == null || r.loss() == null) {
                        throw new IllegalStateException("TruncatedBptt: the chunk step returned no loss (chunk " + c
                                + ")");
                    }
                    if (r.loss().numel() != 1) {
                        throw new IllegalArgumentException("TruncatedBptt: the chunk loss must be a scalar, got "
                                + r.loss().shape());
                    }
                    r.loss().backward();
                    if (!Double.isNaN(maxNorm)) {
                        GradClip.clipGradNorm(optimizer.params(), maxNorm);
                    }
                    optimizer.step();
                    losses[c] = r.loss().item();
                    next = detachedCopies(sn, r.state());
                }
                if (own) {
                    closeAll(carried);
                }
                carried = next;
                own = next != null;
            }
            Result result = new Result(losses, carried); // the caller owns the final state now
            own = false;
            return result;
        } finally {
            if (own) {
                closeAll(carried);
            }
        }
    }

    /** Copies of {@code state}, cut from the graph and from the chunk's scope (this utility owns them). */
    private static List<Tensor> detachedCopies(Sinew sn, List<Tensor> state) {
        if (state == null) {
            return null;
        }
        List<Tensor> out = new ArrayList<>(state.size());
        try (var _ = sn.noGrad()) {
            for (Tensor s : state) {
                out.add(s == null ? null : s.detach().copy().detachFromScope());
            }
        }
        return out;
    }

    private static void closeAll(List<Tensor> ts) {
        if (ts != null) {
            for (Tensor t : ts) {
                if (t != null) {
                    t.close();
                }
            }
        }
    }
}
