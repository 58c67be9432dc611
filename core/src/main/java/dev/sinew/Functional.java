package dev.sinew;

import dev.sinew.spi.FusedOps.Conv2dParams;
import dev.sinew.spi.FusedOps.Pool2dParams;
import dev.sinew.spi.FusedOps.RnnMode;
import dev.sinew.spi.FusedOps.RnnParams;
import dev.sinew.spi.View;
import java.util.Arrays;
import java.util.List;

/**
 * Autograd-aware entry points to the fused ops that have no natural home on {@link Tensor}:
 * the fused softmax-cross-entropy and dropout, convolution and pooling, and whole-sequence recurrent
 * layers ({@link #rnn}). Losses and layers in {@code dev.sinew.nn} build on
 * these. Results follow the usual ownership rules (the current scope, or the caller).
 */
public final class Functional {
    private Functional() {
    }

    /**
     * Per-row cross-entropy of {@code logits [N, C]} against INT64 class indices {@code labels [N]},
     * with PyTorch's {@code ignore_index} and {@code label_smoothing}; returns {@code [N]} (ignored rows
     * are 0). The gradient flows to the logits through the fused backward.
     */
    public static Tensor crossEntropyPerRow(Tensor logits, Tensor labels, long ignoreIndex, double labelSmoothing) {
        if (logits.rank() != 2) {
            throw new IllegalArgumentException("crossEntropy: logits must be [N, C], got " + logits.shape());
        }
        if (!logits.dtype().isFloating()) {
            throw new IllegalArgumentException("crossEntropy: logits must be floating, got " + logits.dtype());
        }
        if (labels.dtype() != DType.INT64) {
            throw new IllegalArgumentException("crossEntropy: labels must be INT64 class indices, got "
                    + labels.shape() + " " + labels.dtype());
        }
        if (labels.rank() != 1 || labels.size(0) != logits.size(0)) {
            throw new IllegalArgumentException("crossEntropy: labels " + labels.shape() + " do not match logits "
                    + logits.shape() + " (need [" + logits.size(0) + "])");
        }
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException("crossEntropy: labelSmoothing must be in [0, 1], got "
                    + labelSmoothing);
        }
        if (labels.sinew() != logits.sinew()) {
            throw new IllegalArgumentException("crossEntropy: logits and labels belong to different Sinew contexts");
        }
        long n = logits.size(0);
        long c = logits.size(1);
        long[] lab = labels.toLongArray();
        for (int i = 0; i < lab.length; i++) {
            if (lab[i] != ignoreIndex && (lab[i] < 0 || lab[i] >= c)) {
                throw new IllegalArgumentException("crossEntropy: label " + lab[i] + " at row " + i
                        + " is out of range for " + c + " classes (logits " + logits.shape() + ")");
            }
        }
        Sinew sn = logits.sinew();
        Tensor x = logits.isContiguous() ? logits : logits.contiguous();
        Tensor lb = labels.isContiguous() ? labels : labels.contiguous();
        Tensor loss = sn.empty(logits.dtype(), new long[] {n});
        Tensor probs = sn.empty(logits.dtype(), new long[] {n, c});
        View pv = probs.storageView();
        sn.backend().softmaxCrossEntropy(x.storageView(), lb.storageView(), loss.storageView(), pv, ignoreIndex,
                labelSmoothing);
        return x.recordExternal(loss, "crossEntropy", g -> {
            Tensor gc = g.isContiguous() ? g : g.contiguous();
            Tensor d = sn.empty(logits.dtype(), new long[] {n, c});
            sn.backend().softmaxCrossEntropyBackward(probs.storageView(), lb.storageView(), gc.storageView(),
                    d.storageView(), ignoreIndex, labelSmoothing);
            return new Tensor[] {d};
        });
    }

    /**
     * Inverted dropout: in training, zeroes each element with probability {@code p} and scales the
     * rest by {@code 1/(1−p)}; in eval (or p = 0) returns {@code x} unchanged.
     */
    public static Tensor dropout(Tensor x, double p, Generator g, boolean training) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("dropout: p must be in [0, 1], got " + p);
        }
        if (!x.dtype().isFloating()) {
            throw new IllegalArgumentException("dropout: needs a floating tensor, got " + x.dtype());
        }
        if (!training || p == 0) {
            return x;
        }
        Sinew sn = x.sinew();
        if (p == 1) {
            return x.mul(0.0);
        }
        Tensor xc = x.isContiguous() ? x : x.contiguous();
        Tensor out = sn.empty(x.dtype(), x.dims());
        Tensor mask = sn.empty(x.dtype(), x.dims());
        sn.backend().dropout(xc.storageView(), out.storageView(), mask.storageView(), p, g.seed(),
                g.reserve(x.numel()));
        return xc.recordExternal(out, "dropout", gr -> new Tensor[] {gr.mul(mask)});
    }

    // ---- convolution and pooling (NCHW) ------------------------------------------------------

    /**
     * 2-D convolution as {@code torch.nn.functional.conv2d}: {@code x [N, C_in, H, W]} (or unbatched
     * {@code [C_in, H, W]}), {@code weight [C_out, C_in/groups, kH, kW]}, {@code bias [C_out]} or null.
     * {@code stride} and {@code dilation} hold one value or (H, W); {@code padding} one value, (H, W)
     * (symmetric, as PyTorch) or (top, bottom, left, right). Gradients flow to every input that
     * requires one, through the fused backward-data and backward-filter ops.
     */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] padding, int[] dilation,
            int groups) {
        int[] s = pair("conv2d", "stride", stride);
        int[] d = pair("conv2d", "dilation", dilation);
        int[] pd = sides("conv2d", padding);
        return conv2d(x, weight, bias, new Conv2dParams(s[0], s[1], pd[0], pd[1], pd[2], pd[3], d[0], d[1], groups));
    }

    /**
     * {@link #conv2d(Tensor, Tensor, Tensor, int[], int[], int[], int)} with PyTorch's string padding:
     * {@code "valid"} (none) or {@code "same"} (output size equals input size; needs stride 1; an odd
     * total {@code dilation·(k−1)} puts the extra row/column at the bottom/right, as PyTorch does).
     */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int[] stride, String padding, int[] dilation,
            int groups) {
        if (weight == null || weight.rank() != 4) {
            throw new IllegalArgumentException("conv2d: weight must be [C_out, C_in/groups, kH, kW], got "
                    + (weight == null ? "null" : weight.shape()));
        }
        int[] pd = paddingFor("conv2d", padding, pair("conv2d", "stride", stride),
                new long[] {weight.size(2), weight.size(3)}, pair("conv2d", "dilation", dilation));
        return conv2d(x, weight, bias, stride, pd, dilation, groups);
    }

    /**
     * Explicit padding (top, bottom, left, right) for PyTorch's string padding {@code "valid"} or
     * {@code "same"} of a kernel {@code (kH, kW)}; "same" needs stride 1.
     */
    public static int[] paddingFor(String op, String padding, int[] stride, long[] kernel, int[] dilation) {
        if ("valid".equals(padding)) {
            return new int[] {0, 0, 0, 0};
        }
        if (!"same".equals(padding)) {
            throw new IllegalArgumentException(op + ": padding must be numbers, \"same\" or \"valid\", got \""
                    + padding + "\"");
        }
        if (stride[0] != 1 || stride[stride.length - 1] != 1) {
            throw new IllegalArgumentException(op + ": padding=\"same\" is not supported for strided convolutions"
                    + " (stride " + java.util.Arrays.toString(stride) + "); PyTorch has the same rule");
        }
        int[] out = new int[4];
        for (int i = 0; i < 2; i++) {
            long total = (long) dilation[Math.min(i, dilation.length - 1)] * (kernel[i] - 1);
            int before = Math.toIntExact(total / 2);
            out[2 * i] = before;
            out[2 * i + 1] = Math.toIntExact(total - before); // the extra one goes after, as PyTorch
        }
        return out;
    }

    /** The core of every conv2d entry point: checks, runs the fused op and records the gradient. */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, Conv2dParams p) {
        String op = "conv2d";
        if (x == null || weight == null || p == null) {
            throw new IllegalArgumentException(op + ": input, weight and params must not be null");
        }
        if (x.rank() == 3) { // unbatched [C, H, W], as PyTorch accepts
            return conv2d(x.unsqueeze(0), weight, bias, p).squeeze(0);
        }
        checkFloat(op, "input", x);
        checkLike(op, "weight", weight, x);
        if (bias != null) {
            checkLike(op, "bias", bias, x);
            if (bias.rank() != 1 || (weight.rank() == 4 && bias.size(0) != weight.size(0))) {
                throw new IllegalArgumentException(op + ": bias " + bias.shape() + " must be [" + (weight.rank() == 4
                        ? weight.size(0) : "C_out") + "] for weight " + weight.shape());
            }
        }
        long[] os = p.outputShape(op, x.dims(), weight.dims());
        Sinew sn = x.sinew();
        Tensor out = sn.empty(x.dtype(), os); // [N, C_out, OH, OW]
        sn.backend().conv2d(x.storageView(), weight.storageView(), bias == null ? null : bias.storageView(),
                out.storageView(), p);
        return MultiInputRecord.record(out, op, (gradOut, need) -> {
            Tensor g = gradOut.isContiguous() ? gradOut : gradOut.contiguous(); // [N, C_out, OH, OW]
            Tensor dx = need[0] ? convBackwardData(g, weight, x, p) : null;
            Tensor dw = need[1] ? sn.empty(x.dtype(), weight.dims()) : null;
            Tensor db = need.length > 2 && need[2] ? sn.empty(x.dtype(), bias.dims()) : null;
            if (dw != null) {
                sn.backend().conv2dBackwardFilter(x.storageView(), g.storageView(), dw.storageView(),
                        db == null ? null : db.storageView(), p);
            } else if (db != null) {
                db = g.sum(new int[] {0, 2, 3}, false);
            }
            return new Tensor[] {dx, dw, db};
        }, x, weight, bias);
    }

    private static Tensor convBackwardData(Tensor g, Tensor weight, Tensor x, Conv2dParams p) {
        Sinew sn = x.sinew();
        Tensor dx = sn.empty(x.dtype(), x.dims());
        sn.backend().conv2dBackwardData(g.storageView(), weight.storageView(), dx.storageView(), p);
        return dx;
    }

    /**
     * Max pooling as {@code torch.nn.functional.max_pool2d} over {@code [N, C, H, W]} (or
     * {@code [C, H, W]}): {@code kernel}, {@code stride} (null or empty: the kernel),
     * {@code padding} and {@code dilation} hold one value or (H, W); padding is −∞ and at most half
     * the kernel, as PyTorch requires. The gradient goes to the first maximum of each window.
     */
    public static Tensor maxPool2d(Tensor x, int[] kernel, int[] stride, int[] padding, int[] dilation,
            boolean ceilMode) {
        Pool2dParams p = poolParams("maxPool2d", kernel, stride, padding, dilation, ceilMode, true);
        return maxPool2d(x, p);
    }

    /** Max pooling with explicit geometry (padding per side; no half-kernel limit). */
    public static Tensor maxPool2d(Tensor x, Pool2dParams p) {
        String op = "maxPool2d";
        if (x.rank() == 3) {
            return maxPool2d(x.unsqueeze(0), p).squeeze(0);
        }
        checkFloat(op, "input", x);
        long[] os = p.outputShape(op, x.dims());
        Sinew sn = x.sinew();
        Tensor out = sn.empty(x.dtype(), os); // [N, C, OH, OW]
        sn.backend().maxPool2d(x.storageView(), out.storageView(), p);
        Tensor y = out;
        return x.recordExternal(out, op, g -> {
            Tensor dx = sn.empty(x.dtype(), x.dims());
            sn.backend().maxPool2dBackward(x.storageView(), y.storageView(), g.storageView(), dx.storageView(), p);
            return new Tensor[] {dx};
        });
    }

    /**
     * Average pooling as {@code torch.nn.functional.avg_pool2d}: {@code kernel}, {@code stride} (null
     * or empty: the kernel) and {@code padding} (zeros, at most half the kernel) hold one value or
     * (H, W); {@code countIncludePad} says whether the divisor counts padding.
     */
    public static Tensor avgPool2d(Tensor x, int[] kernel, int[] stride, int[] padding, boolean ceilMode,
            boolean countIncludePad) {
        Pool2dParams p = poolParams("avgPool2d", kernel, stride, padding, new int[] {1}, ceilMode, countIncludePad);
        return avgPool2d(x, p);
    }

    /** Average pooling with explicit geometry. */
    public static Tensor avgPool2d(Tensor x, Pool2dParams p) {
        String op = "avgPool2d";
        if (x.rank() == 3) {
            return avgPool2d(x.unsqueeze(0), p).squeeze(0);
        }
        checkFloat(op, "input", x);
        long[] os = p.outputShape(op, x.dims());
        Sinew sn = x.sinew();
        Tensor out = sn.empty(x.dtype(), os); // [N, C, OH, OW]
        sn.backend().avgPool2d(x.storageView(), out.storageView(), p);
        return x.recordExternal(out, op, g -> {
            Tensor dx = sn.empty(x.dtype(), x.dims());
            sn.backend().avgPool2dBackward(g.storageView(), dx.storageView(), p);
            return new Tensor[] {dx};
        });
    }

    /**
     * Adaptive average pooling as {@code torch.nn.functional.adaptive_avg_pool2d}: output cell
     * {@code (i, j)} averages rows {@code [⌊i·H/OH⌋, ⌈(i+1)·H/OH⌉)} and the columns likewise. When
     * OH divides H and OW divides W this is an average pool; otherwise the (separable) averaging is
     * two matrix products with fixed pooling matrices, {@code P_H · x · P_Wᵀ}.
     */
    public static Tensor adaptiveAvgPool2d(Tensor x, long outH, long outW) {
        String op = "adaptiveAvgPool2d";
        if (x.rank() == 3) {
            return adaptiveAvgPool2d(x.unsqueeze(0), outH, outW).squeeze(0);
        }
        checkFloat(op, "input", x);
        if (x.rank() != 4) {
            throw new IllegalArgumentException(op + ": input must be [N, C, H, W] or [C, H, W], got " + x.shape());
        }
        if (outH < 1 || outW < 1) {
            throw new IllegalArgumentException(op + ": output size must be positive, got (" + outH + ", " + outW + ")");
        }
        long h = x.size(2);
        long w = x.size(3);
        if (h % outH == 0 && w % outW == 0) {
            int kh = Math.toIntExact(h / outH);
            int kw = Math.toIntExact(w / outW);
            return avgPool2d(x, new Pool2dParams(kh, kw, kh, kw, 0, 0, 0, 0, 1, 1, false, true));
        }
        Sinew sn = x.sinew();
        Tensor pw = sn.fromArray(poolingMatrix(w, outW, true), w, outW).toOwned(x.dtype());  // [W, OW]
        Tensor ph = sn.fromArray(poolingMatrix(h, outH, false), outH, h).toOwned(x.dtype()); // [OH, H]
        return ph.matmul(x.matmul(pw)); // [N, C, OH, OW]
    }

    /** Averaging weights of adaptive pooling: {@code [in, out]} when transposed, else {@code [out, in]}. */
    private static double[] poolingMatrix(long in, long out, boolean transposed) {
        double[] m = new double[Math.toIntExact(in * out)];
        for (long i = 0; i < out; i++) {
            long start = Math.floorDiv(i * in, out);
            long end = -Math.floorDiv(-(i + 1) * in, out); // ceil
            for (long k = start; k < end; k++) {
                m[(int) (transposed ? k * out + i : i * in + k)] = 1.0 / (end - start);
            }
        }
        return m;
    }

    /**
     * Batch normalisation over {@code [N, C, H, W]} as {@code torch.nn.functional.batch_norm}: in
     * training (or without running statistics) normalises with the batch mean and biased variance per
     * channel, and, when running statistics are given, updates them in place (no gradient):
     * {@code running = (1 − momentum)·running + momentum·batch}, with the unbiased variance
     * ({@code n/(n−1)}). In evaluation it normalises with the running statistics. {@code weight} and
     * {@code bias} ({@code [C]}, or null) scale and shift. Differentiable in x, weight and bias.
     */
    public static Tensor batchNorm2d(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
            boolean training, double momentum, double eps) {
        String op = "batchNorm2d";
        checkFloat(op, "input", x);
        if (x.rank() != 4) {
            throw new IllegalArgumentException(op + ": input must be [N, C, H, W], got " + x.shape());
        }
        long c = x.size(1);
        for (Tensor t : new Tensor[] {runningMean, runningVar, weight, bias}) {
            if (t != null && (t.rank() != 1 || t.size(0) != c)) {
                throw new IllegalArgumentException(op + ": input " + x.shape() + " has " + c
                        + " channels, but a parameter or running statistic has shape " + t.shape());
            }
        }
        if ((runningMean == null) != (runningVar == null)) {
            throw new IllegalArgumentException(op + ": running mean and running variance must both be given or both null");
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException(op + ": eps must be > 0, got " + eps);
        }
        long[] perChannel = {1, c, 1, 1};
        boolean batchStats = training || runningMean == null;
        Tensor y;
        if (batchStats) {
            long n = x.size(0) * x.size(2) * x.size(3);
            if (n <= 1) {
                throw new IllegalArgumentException(op + ": expected more than 1 value per channel when training, got input "
                        + x.shape());
            }
            int[] axes = {0, 2, 3};
            Tensor mean = x.mean(axes, true);            // [1, C, 1, 1]
            Tensor centred = x.sub(mean);                // [N, C, H, W]
            Tensor var = centred.square().mean(axes, true); // biased, [1, C, 1, 1]
            y = centred.div(var.add(eps).sqrt());
            if (training && runningMean != null) {
                try (NoGrad ng = x.sinew().noGrad()) {
                    runningMean.copy_(runningMean.mul(1 - momentum).add(mean.reshape(c).to(runningMean.dtype())
                            .mul(momentum)));
                    runningVar.copy_(runningVar.mul(1 - momentum).add(var.reshape(c).to(runningVar.dtype())
                            .mul(momentum * n / (n - 1.0))));
                }
            }
        } else {
            Tensor rm = runningMean.to(x.dtype()).reshape(perChannel);
            Tensor rv = runningVar.to(x.dtype()).reshape(perChannel);
            y = x.sub(rm).div(rv.add(eps).sqrt());
        }
        if (weight != null) {
            checkLike(op, "weight", weight, x);
            y = y.mul(weight.reshape(perChannel));
        }
        if (bias != null) {
            checkLike(op, "bias", bias, x);
            y = y.add(bias.reshape(perChannel));
        }
        return y;
    }

    /**
     * Channel dropout as {@code torch.nn.functional.dropout2d}: in training each channel of each sample
     * ({@code [N, C, H, W]}, or {@code [C, H, W]}) is zeroed with probability {@code p} and the rest
     * scaled by {@code 1/(1−p)}; one Philox draw per channel from {@code g}. Identity in eval.
     */
    public static Tensor dropout2d(Tensor x, double p, Generator g, boolean training) {
        String op = "dropout2d";
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException(op + ": p must be in [0, 1], got " + p);
        }
        checkFloat(op, "input", x);
        if (x.rank() != 4 && x.rank() != 3) {
            throw new IllegalArgumentException(op + ": input must be [N, C, H, W] or [C, H, W], got " + x.shape());
        }
        if (!training || p == 0) {
            return x;
        }
        if (p == 1) {
            return x.mul(0.0);
        }
        long[] maskShape = x.dims();
        maskShape[maskShape.length - 1] = 1;
        maskShape[maskShape.length - 2] = 1;      // [N, C, 1, 1]
        Tensor mask = dropout(x.sinew().ones(x.dtype(), maskShape), p, g, true);
        return x.mul(mask);
    }

    // ---- argument helpers for the convolution family -------------------------------------------

    private static void checkFloat(String op, String arg, Tensor t) {
        if (t == null) {
            throw new IllegalArgumentException(op + ": " + arg + " is null");
        }
        if (!t.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": " + arg + " must be floating, got " + t.shape() + " "
                    + t.dtype());
        }
    }

    private static void checkLike(String op, String arg, Tensor t, Tensor x) {
        if (t.sinew() != x.sinew()) {
            throw new IllegalArgumentException(op + ": " + arg + " belongs to a different Sinew context than the input");
        }
        if (t.dtype() != x.dtype()) {
            throw new IllegalArgumentException(op + ": " + arg + " " + t.shape() + " is " + t.dtype()
                    + " but the input " + x.shape() + " is " + x.dtype() + "; convert with to(DType)");
        }
    }

    /** One value or (H, W) as (H, W). */
    private static int[] pair(String op, String arg, int[] v) {
        if (v == null || v.length < 1 || v.length > 2) {
            throw new IllegalArgumentException(op + ": " + arg + " must hold 1 or 2 values (H, W), got "
                    + java.util.Arrays.toString(v));
        }
        return v.length == 1 ? new int[] {v[0], v[0]} : v.clone();
    }

    /** One value, (H, W) or (top, bottom, left, right) as (top, bottom, left, right). */
    private static int[] sides(String op, int[] v) {
        if (v == null) {
            return new int[4];
        }
        return switch (v.length) {
            case 1 -> new int[] {v[0], v[0], v[0], v[0]};
            case 2 -> new int[] {v[0], v[0], v[1], v[1]};
            case 4 -> v.clone();
            default -> throw new IllegalArgumentException(op + ": padding must hold 1, 2 (H, W) or 4 (top, bottom, "
                    + "left, right) values, got " + java.util.Arrays.toString(v));
        };
    }

    /**
     * The geometry of a PyTorch pooling layer: {@code kernel}, {@code stride} (null or empty: the
     * kernel), {@code padding} (null: none; at most half the kernel) and {@code dilation} hold one
     * value or (H, W). Throws {@link IllegalArgumentException} naming {@code op} on bad values.
     */
    public static Pool2dParams poolParams(String op, int[] kernel, int[] stride, int[] padding, int[] dilation,
            boolean ceilMode, boolean countIncludePad) {
        int[] k = pair(op, "kernel", kernel);
        int[] s = stride == null || stride.length == 0 ? k : pair(op, "stride", stride);
        int[] pd = padding == null ? new int[2] : pair(op, "padding", padding);
        int[] d = pair(op, "dilation", dilation);
        if (pd[0] > k[0] / 2 || pd[1] > k[1] / 2) {
            throw new IllegalArgumentException(op + ": padding (" + pd[0] + ", " + pd[1]
                    + ") must be at most half the kernel (" + k[0] + ", " + k[1] + "), as PyTorch requires");
        }
        return Pool2dParams.of(k[0], k[1], s[0], s[1], pd[0], pd[1], d[0], d[1], ceilMode, countIncludePad);
    }

    // ---- recurrent layers ----------------------------------------------------------------------

    /**
     * The results of {@link #rnn}: {@code output} {@code [T, B, D·P]} (or {@code [B, T, D·P]} batch-first,
     * {@code [T, D·P]} unbatched), the final hidden state {@code hN} {@code [L·D, B, P]} and, for LSTM,
     * the final cell state {@code cN} {@code [L·D, B, H]} (null otherwise). All three are ordinary
     * results owned by the scope open at the call, and all carry gradients back to the inputs.
     */
    public record RnnOutput(Tensor output, Tensor hN, Tensor cN) {
    }

    /**
     * A stacked, optionally bidirectional RNN/LSTM/GRU over a whole sequence, as
     * {@code torch.nn.RNN/LSTM/GRU} (the formulas are in {@link dev.sinew.spi.FusedOps#rnnForward}).
     * It runs as one fused op with an explicit backward (never op-by-op autograd over time steps).
     *
     * @param p          the layer configuration
     * @param x          {@code [T, B, inputSize]}, or {@code [B, T, inputSize]} with {@code batchFirst},
     *                   or unbatched {@code [T, inputSize]}
     * @param h0         {@code [L·D, B, P]} (unbatched {@code [L·D, P]}), or null for zeros
     * @param c0         LSTM only: {@code [L·D, B, H]}, or null for zeros
     * @param weights    the parameters in {@link dev.sinew.spi.FusedOps.RnnParams#weightNames()} order
     * @param lengths    each sequence's length (1 ≤ length ≤ T, any order), or null for all T: outputs
     *                   past a sequence's end are 0 and its final state is taken at its own last step
     *                   (the reverse direction starts there), as PyTorch's packed sequences
     * @param dropout    probability of dropping each output of every layer but the last, in training
     * @param g          the generator the dropout masks are drawn from (needed when dropout &gt; 0)
     * @param training   whether dropout applies
     */
    public static RnnOutput rnn(RnnParams p, Tensor x, Tensor h0, Tensor c0, List<Tensor> weights, long[] lengths,
            boolean batchFirst, double dropout, Generator g, boolean training) {
        String op = p == null ? "rnn" : p.mode().name().toLowerCase(java.util.Locale.ROOT);
        if (p == null || x == null || weights == null) {
            throw new IllegalArgumentException(op + ": params, input and weights must not be null");
        }
        checkFloat(op, "input", x);
        if (x.rank() == 2) { // unbatched [T, I], as PyTorch accepts
            if (h0 != null && h0.rank() != 2) {
                throw new IllegalArgumentException(op + ": for unbatched input " + x.shape() + " h0 must be [" 
                        + (long) p.numLayers() * p.directions() + ", " + p.outSize() + "], got " + h0.shape());
            }
            if (c0 != null && c0.rank() != 2) {
                throw new IllegalArgumentException(op + ": for unbatched input " + x.shape() + " c0 must be ["
                        + (long) p.numLayers() * p.directions() + ", " + p.hiddenSize() + "], got " + c0.shape());
            }
            if (lengths != null && lengths.length != 1) {
                throw new IllegalArgumentException(op + ": unbatched input " + x.shape() + " is one sequence, but "
                        + lengths.length + " lengths were given");
            }
            RnnOutput o = rnn(p, x.unsqueeze(1), h0 == null ? null : h0.unsqueeze(1),
                    c0 == null ? null : c0.unsqueeze(1), weights, lengths, false, dropout, g, training);
            return new RnnOutput(o.output().squeeze(1), o.hN().squeeze(1), o.cN() == null ? null : o.cN().squeeze(1));
        }
        String layout = batchFirst ? "[B, T, " + p.inputSize() + "]" : "[T, B, " + p.inputSize() + "]";
        if (x.rank() != 3) {
            throw new IllegalArgumentException(op + ": input must be " + layout + " or unbatched [T, " + p.inputSize()
                    + "], got " + x.shape());
        }
        if (x.size(2) != p.inputSize()) {
            throw new IllegalArgumentException(op + ": input " + x.shape() + " has " + x.size(2)
                    + " features, expected input_size " + p.inputSize() + " (input " + layout + ")");
        }
        long t = x.size(batchFirst ? 1 : 0);
        long b = x.size(batchFirst ? 0 : 1);
        if (lengths != null) {
            if (lengths.length != b) {
                throw new IllegalArgumentException(op + ": lengths has " + lengths.length + " entries but input "
                        + x.shape() + " " + layout + " holds a batch of " + b + " sequences");
            }
            for (int i = 0; i < lengths.length; i++) {
                if (lengths[i] < 1 || lengths[i] > t) {
                    throw new IllegalArgumentException(op + ": lengths[" + i + "] = " + lengths[i]
                            + (lengths[i] < 1 ? " is a sequence of length 0 (every sequence needs at least one step)"
                                    : " is longer than the " + t + " steps of input " + x.shape() + " " + layout));
                }
            }
        }
        long[] hs = p.hiddenShape(b);
        if (h0 != null && !Arrays.equals(h0.dims(), hs)) {
            throw new IllegalArgumentException(op + ": h0 has shape " + h0.shape() + ", expected "
                    + Arrays.toString(hs) + " (num_layers·directions, batch, " + (p.projSize() > 0 ? "proj_size"
                    : "hidden_size") + ") for input " + x.shape() + " " + layout);
        }
        if (c0 != null) {
            if (p.mode() != RnnMode.LSTM) {
                throw new IllegalArgumentException(op + ": an initial cell state c0 is only for LSTM");
            }
            long[] cs = p.cellShape(b);
            if (!Arrays.equals(c0.dims(), cs)) {
                throw new IllegalArgumentException(op + ": c0 has shape " + c0.shape() + ", expected "
                        + Arrays.toString(cs) + " (num_layers·directions, batch, hidden_size) for input " + x.shape()
                        + " " + layout);
            }
        }
        List<long[]> shapes = p.weightShapes();
        List<String> names = p.weightNames();
        if (weights.size() != shapes.size()) {
            throw new IllegalArgumentException(op + ": expected " + shapes.size() + " weights " + names + ", got "
                    + weights.size());
        }
        for (int i = 0; i < shapes.size(); i++) {
            Tensor w = weights.get(i);
            if (w == null || !Arrays.equals(w.dims(), shapes.get(i))) {
                throw new IllegalArgumentException(op + ": " + names.get(i) + " has shape "
                        + (w == null ? "null" : w.shape()) + ", expected " + Arrays.toString(shapes.get(i)));
            }
            checkLike(op, names.get(i), w, x);
        }
        if (h0 != null) {
            checkLike(op, "h0", h0, x);
        }
        if (c0 != null) {
            checkLike(op, "c0", c0, x);
        }
        if (!(dropout >= 0 && dropout <= 1)) {
            throw new IllegalArgumentException(op + ": dropout must be in [0, 1], got " + dropout);
        }
        boolean drop = training && dropout > 0 && p.numLayers() > 1;
        if (drop && g == null) {
            throw new IllegalArgumentException(op + ": dropout " + dropout + " needs a generator");
        }
        Tensor xt = batchFirst ? x.transpose(0, 1) : x;                    // [T, B, I]
        long[] len = lengths == null ? null : lengths.clone();
        RnnOutput r;
        if (!drop) {
            r = rnnFused(p, xt, h0, c0, weights, len);
        } else {
            // Dropout between layers: one fused call per layer, PyTorch's dropout on each output but the last.
            int dirs = p.directions();
            Tensor in = xt;
            Tensor[] hN = new Tensor[p.numLayers()];
            Tensor[] cN = new Tensor[p.numLayers()];
            Tensor out = null;
            for (int l = 0; l < p.numLayers(); l++) {
                RnnParams pl = new RnnParams(p.mode(), p.layerInputSize(l), p.hiddenSize(), p.projSize(), 1,
                        p.bidirectional(), p.bias());
                List<Tensor> wl = weights.subList(p.weightIndex(l, 0), p.weightIndex(l, 0) + dirs * p.weightsPerCell());
                RnnOutput o = rnnFused(pl, in, h0 == null ? null : h0.slice(0, (long) l * dirs, (long) (l + 1) * dirs),
                        c0 == null ? null : c0.slice(0, (long) l * dirs, (long) (l + 1) * dirs), wl, len);
                hN[l] = o.hN();
                cN[l] = o.cN();
                out = o.output();
                in = l < p.numLayers() - 1 ? dropout(out, dropout, g, true) : out;
            }
            r = new RnnOutput(out, Tensor.cat(0, hN), p.mode() == RnnMode.LSTM ? Tensor.cat(0, cN) : null);
        }
        return batchFirst ? new RnnOutput(r.output().transpose(0, 1), r.hN(), r.cN()) : r;
    }

    /**
     * One fused call: checked operands, time-major {@code x [T, B, I]}. The three outputs are views of
     * one packed buffer {@code [y | hN | cN]} so that the op is one node on the tape with one rule,
     * whose gradient arrives as one packed buffer too (zeros where an output was not used).
     */
    private static RnnOutput rnnFused(RnnParams p, Tensor x, Tensor h0, Tensor c0, List<Tensor> weights,
            long[] lengths) {
        Sinew sn = x.sinew();
        var be = sn.backend();
        DType dt = x.dtype();
        boolean lstm = p.mode() == RnnMode.LSTM;
        Tensor xc = x.contiguous();
        Tensor h0c = h0 == null ? null : h0.contiguous();
        Tensor c0c = c0 == null ? null : c0.contiguous();
        int nw = weights.size();
        Tensor[] inputs = new Tensor[3 + nw];
        inputs[0] = xc;
        inputs[1] = h0c;
        inputs[2] = c0c;
        List<View> wv = new java.util.ArrayList<>(nw);
        for (int i = 0; i < nw; i++) {
            Tensor w = weights.get(i).contiguous();
            inputs[3 + i] = w;
            wv.add(w.storageView());
        }
        long t = x.size(0);
        long b = x.size(1);
        long[] ys = p.outputShape(t, b);                                      // [T, B, D·P]
        long[] hs = p.hiddenShape(b);                                         // [L·D, B, P]
        long[] cs = p.cellShape(b);                                           // [L·D, B, H]
        long ny = ys[0] * ys[1] * ys[2];
        long nh = hs[0] * hs[1] * hs[2];
        long nc = lstm ? cs[0] * cs[1] * cs[2] : 0;
        Tensor packed = sn.empty(dt, ny + nh + nc);                           // [y | hN | cN]
        View pv = packed.storageView();
        View yv = sub(pv, 0, ys);
        View hv = sub(pv, ny, hs);
        View cv = lstm ? sub(pv, ny + nh, cs) : null;
        boolean recording = false;
        if (sn.isGradEnabled()) {
            for (Tensor in : inputs) {
                recording |= in != null && in.requiresGrad();
            }
        }
        long rs = recording ? be.rnnReserveSize(p, t, b) : 0;
        Tensor reserve = rs > 0 ? sn.empty(dt, rs) : null;                   // kept for the backward
        View xv = xc.storageView();
        View h0v = h0c == null ? null : h0c.storageView();
        View c0v = c0c == null ? null : c0c.storageView();
        View rv = reserve == null ? null : reserve.storageView();
        be.rnnForward(p, lengths, xv, h0v, c0v, wv, yv, hv, cv, rv);
        Tensor out = MultiInputRecord.record(packed, "rnn", (gradOut, need) -> {
            Tensor gc = gradOut.isContiguous() ? gradOut : gradOut.contiguous();
            View gv = gc.storageView();
            View dyv = sub(gv, 0, ys);
            View dhv = sub(gv, ny, hs);
            View dcv = lstm ? sub(gv, ny + nh, cs) : null;
            Tensor dx = need[0] ? sn.empty(dt, xc.dims()) : null;
            Tensor dh0 = need[1] ? sn.empty(dt, hs) : null;
            Tensor dc0 = need[2] ? sn.empty(dt, cs) : null;
            boolean anyW = false;
            for (int i = 0; i < nw; i++) {
                anyW |= need[3 + i];
            }
            Tensor[] grads = new Tensor[3 + nw];
            List<View> dwv = null;
            if (anyW) {
                dwv = new java.util.ArrayList<>(nw);
                for (int i = 0; i < nw; i++) {
                    grads[3 + i] = sn.empty(dt, inputs[3 + i].dims());
                    dwv.add(grads[3 + i].storageView());
                }
            }
            be.rnnBackward(p, lengths, xv, h0v, c0v, wv, yv, rv, dyv, dhv, dcv, dx == null ? null : dx.storageView(),
                    dh0 == null ? null : dh0.storageView(), dc0 == null ? null : dc0.storageView(), dwv);
            grads[0] = dx;
            grads[1] = dh0;
            grads[2] = dc0;
            for (int i = 0; i < nw; i++) {
                if (!need[3 + i]) {
                    grads[3 + i] = null; // computed with the others, not wanted (owned by the scope)
                }
            }
            return grads;
        }, inputs);
        Tensor y = out.slice(0, 0, ny).reshape(ys);
        Tensor hN = out.slice(0, ny, ny + nh).reshape(hs);
        Tensor cN = lstm ? out.slice(0, ny + nh, ny + nh + nc).reshape(cs) : null;
        return new RnnOutput(y, hN, cN);
    }

    /** The contiguous {@code shape} part of a packed buffer starting at element {@code start}. */
    private static View sub(View packed, long start, long[] shape) {
        return packed.with(packed.offset() + start, shape, View.contiguousStrides(shape));
    }
}
