package dev.sinew;

import dev.sinew.spi.FusedOps.Conv2dParams;
import dev.sinew.spi.FusedOps.Pool2dParams;
import dev.sinew.spi.View;

/**
 * Autograd-aware entry points to the fused ops that have no natural home on {@link Tensor}:
 * the fused softmax-cross-entropy and dropout. Losses and layers in {@code dev.sinew.nn} build on
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
}
