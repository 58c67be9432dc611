package dev.sinew.spi;

import java.util.Arrays;
import java.util.List;

/**
 * The fused tier of the SPI: ops that a backend can run faster as one unit (cuDNN, cuBLAS, a
 * Vector API loop) than as a chain of primitives. Every method has a default, in {@link Composed},
 * built from the primitive ops of {@link Backend}; backends override what they can do better.
 * Core's autograd calls these ops and their explicit {@code …Backward} forms.
 */
public interface FusedOps {

    /** The primitives the defaults are composed from (a backend returns itself). */
    Backend primitives();

    /**
     * Softmax (or log-softmax when {@code log}) over the last axis of {@code x}; out has x's shape.
     * Rows are computed stably (max subtracted first).
     */
    default void softmax(View x, View out, boolean log) {
        Composed.softmax(primitives(), x, out, log);
    }

    /**
     * Gradient of {@link #softmax} given its output {@code y} and upstream {@code dy}:
     * softmax: {@code dx = y ⊙ (dy − Σ dy⊙y)}; log-softmax: {@code dx = dy − exp(y) ⊙ Σ dy}.
     */
    default void softmaxBackward(View y, View dy, View dx, boolean log) {
        Composed.softmaxBackward(primitives(), y, dy, dx, log);
    }

    /**
     * Cross-entropy from logits {@code [N, C]} and INT64 labels {@code [N]}: writes per-row loss
     * {@code [N]} and the softmax probabilities {@code [N, C]} (kept for the backward). With label
     * smoothing ε, loss = (1−ε)·(−log p_y) − (ε/C)·Σ_c log p_c. Rows whose label equals
     * {@code ignoreIndex} get loss 0. Labels are already checked to be in range.
     */
    default void softmaxCrossEntropy(View logits, View labels, View loss, View probs, long ignoreIndex,
            double labelSmoothing) {
        Composed.softmaxCrossEntropy(primitives(), logits, labels, loss, probs, ignoreIndex, labelSmoothing);
    }

    /**
     * {@code dLogits[n, c] = dLoss[n] · (probs[n, c] − target[n, c])} with target the smoothed
     * one-hot; rows with the ignored label get 0.
     */
    default void softmaxCrossEntropyBackward(View probs, View labels, View dLoss, View dLogits, long ignoreIndex,
            double labelSmoothing) {
        Composed.softmaxCrossEntropyBackward(primitives(), probs, labels, dLoss, dLogits, ignoreIndex,
                labelSmoothing);
    }

    /**
     * Inverted dropout: {@code mask[i] = u_i ≥ p ? 1/(1−p) : 0} with {@code u_i} =
     * {@link Philox#uniform}{@code (seed, offset + i)}, and {@code out = x ⊙ mask}. The backward is
     * {@code dy ⊙ mask}, a primitive multiply.
     */
    default void dropout(View x, View out, View mask, double p, long seed, long offset) {
        Composed.dropout(primitives(), x, out, mask, p, seed, offset);
    }

    /**
     * One SGD step over many parameters, in place, as {@code torch.optim.SGD}: with weight decay
     * {@code g += wd·θ}; with momentum {@code buf = firstStep ? g : μ·buf + (1−dampening)·g},
     * {@code g = nesterov ? g + μ·buf : buf}; then {@code θ −= lr·g}. {@code momentum} holds one
     * buffer per parameter, or is empty when μ = 0. Gradients are not modified.
     */
    default void sgdStep(List<View> params, List<View> grads, List<View> momentum, SgdConfig cfg) {
        Composed.sgdStep(primitives(), params, grads, momentum, cfg);
    }

    /**
     * One Adam or AdamW step (as {@code torch.optim.Adam}/{@code AdamW}, amsgrad off), in place:
     * L2 ({@code g += wd·θ}) or decoupled ({@code θ −= lr·wd·θ}) decay;
     * {@code m = β1·m + (1−β1)·g}, {@code v = β2·v + (1−β2)·g²},
     * {@code θ −= lr · (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + ε)} with t = {@code cfg.step()} ≥ 1.
     */
    default void adamStep(List<View> params, List<View> grads, List<View> m, List<View> v, AdamConfig cfg) {
        Composed.adamStep(primitives(), params, grads, m, v, cfg);
    }

    /**
     * One RMSProp step as {@code torch.optim.RMSprop}, in place: {@code g += wd·θ};
     * {@code sq = α·sq + (1−α)·g²}; centered: {@code ga = α·ga + (1−α)·g}, {@code avg = sqrt(sq − ga²) + ε},
     * else {@code avg = sqrt(sq) + ε}; momentum: {@code buf = μ·buf + g/avg, θ −= lr·buf}, else
     * {@code θ −= lr·g/avg}. {@code momentumBuf} is empty when μ = 0, {@code gradAvg} when not centered.
     */
    default void rmspropStep(List<View> params, List<View> grads, List<View> squareAvg, List<View> momentumBuf,
            List<View> gradAvg, RmsPropConfig cfg) {
        Composed.rmspropStep(primitives(), params, grads, squareAvg, momentumBuf, gradAvg, cfg);
    }

    /** Hyper-parameters of {@link #sgdStep}. */
    record SgdConfig(double lr, double momentum, double dampening, boolean nesterov, double weightDecay,
            boolean firstStep) {
    }

    /** Hyper-parameters of {@link #adamStep}; {@code decoupled} selects AdamW's decay. */
    record AdamConfig(double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled,
            long step) {
    }

    /** Hyper-parameters of {@link #rmspropStep}. */
    record RmsPropConfig(double lr, double alpha, double eps, double weightDecay, double momentum,
            boolean centered) {
    }

    // ---- convolution and pooling (NCHW) --------------------------------------------------------
    // Defaults in ComposedConv (strided window views, matmul, elementwise MAX/ADD); the reference
    // backend overrides them with the plain loops that define these ops.

    /**
     * 2-D convolution (cross-correlation, as {@code torch.nn.functional.conv2d}) of {@code x}
     * {@code [N, C_in, H, W]} with {@code w} {@code [C_out, C_in/groups, kH, kW]}, plus {@code bias}
     * {@code [C_out]} when it is not null, into {@code out} {@code [N, C_out, OH, OW]} with OH, OW
     * from {@link Conv2dParams#outHeight}/{@link Conv2dParams#outWidth}:
     * {@code out[n, o, i, j] = bias[o] + Σ_{c, p, q} x[n, g·C_in/G + c, i·sH − padTop + p·dH,
     * j·sW − padLeft + q·dW] · w[o, c, p, q]} with {@code g = o / (C_out/G)} and zero outside the
     * input. Inputs may have any strides (stride 0 included); out may be any non-overlapping view.
     */
    default void conv2d(View x, View w, View bias, View out, Conv2dParams p) {
        ComposedConv.conv2d(primitives(), x, w, bias, out, p);
    }

    /**
     * Gradient of {@link #conv2d} with respect to its input: {@code dx} {@code [N, C_in, H, W]} from
     * {@code dy} {@code [N, C_out, OH, OW]} and {@code w}; dx is overwritten (positions no window
     * reaches get 0).
     */
    default void conv2dBackwardData(View dy, View w, View dx, Conv2dParams p) {
        ComposedConv.conv2dBackwardData(primitives(), dy, w, dx, p);
    }

    /**
     * Gradient of {@link #conv2d} with respect to its weight, {@code dw} {@code [C_out, C_in/G, kH, kW]}
     * (summed over the batch), and, when {@code dBias} is not null, its bias
     * ({@code dBias[o] = Σ_{n,i,j} dy[n, o, i, j]}). Both are overwritten.
     */
    default void conv2dBackwardFilter(View x, View dy, View dw, View dBias, Conv2dParams p) {
        ComposedConv.conv2dBackwardFilter(primitives(), x, dy, dw, dBias, p);
    }

    /**
     * Max pooling, as {@code torch.nn.functional.max_pool2d}: {@code out[n, c, i, j]} is the maximum
     * of {@code x} over the window at rows {@code i·sH − padTop + p·dH}, columns
     * {@code j·sW − padLeft + q·dW}; positions outside the input count as −∞. A NaN in the window
     * makes the result NaN. out's shape is {@code [N, C, OH, OW]} from {@link Pool2dParams}.
     */
    default void maxPool2d(View x, View out, Pool2dParams p) {
        ComposedConv.maxPool2d(primitives(), x, out, p);
    }

    /**
     * Gradient of {@link #maxPool2d}: each {@code dy[n, c, i, j]} goes to the <em>first</em> position
     * of its window (row-major window order) whose value equals the maximum {@code y[n, c, i, j]}, as
     * PyTorch's CPU kernel does; contributions of overlapping windows add up; dx is overwritten.
     * Where a window holds NaN the gradient may go to any of its NaN positions.
     */
    default void maxPool2dBackward(View x, View y, View dy, View dx, Pool2dParams p) {
        ComposedConv.maxPool2dBackward(primitives(), x, y, dy, dx, p);
    }

    /**
     * Average pooling, as {@code torch.nn.functional.avg_pool2d} (dilation must be 1): the sum over
     * the window's positions inside the input, divided by {@link Pool2dParams#divisor} (which counts
     * the zero padding when {@code countIncludePad}, but never the part of a ceil-mode window beyond
     * the padded input).
     */
    default void avgPool2d(View x, View out, Pool2dParams p) {
        ComposedConv.avgPool2d(primitives(), x, out, p);
    }

    /** Gradient of {@link #avgPool2d}: {@code dy / divisor} spread over each window; dx is overwritten. */
    default void avgPool2dBackward(View dy, View dx, Pool2dParams p) {
        ComposedConv.avgPool2dBackward(primitives(), dy, dx, p);
    }

    /**
     * Geometry of a 2-D convolution: strides, zero padding per side (PyTorch pads symmetrically;
     * {@code padding="same"} with an even dilated kernel puts the extra row/column at the bottom/right),
     * dilations and groups. Every value is checked: strides, dilations and groups ≥ 1, padding ≥ 0.
     */
    record Conv2dParams(int strideH, int strideW, int padTop, int padBottom, int padLeft, int padRight,
            int dilationH, int dilationW, int groups) {

        public Conv2dParams {
            if (strideH < 1 || strideW < 1) {
                throw new IllegalArgumentException("conv2d: stride must be >= 1, got (" + strideH + ", " + strideW + ")");
            }
            if (dilationH < 1 || dilationW < 1) {
                throw new IllegalArgumentException("conv2d: dilation must be >= 1, got (" + dilationH + ", "
                        + dilationW + ")");
            }
            if (padTop < 0 || padBottom < 0 || padLeft < 0 || padRight < 0) {
                throw new IllegalArgumentException("conv2d: padding must be >= 0, got (top " + padTop + ", bottom "
                        + padBottom + ", left " + padLeft + ", right " + padRight + ")");
            }
            if (groups < 1) {
                throw new IllegalArgumentException("conv2d: groups must be >= 1, got " + groups);
            }
        }

        /** Stride 1, no padding, no dilation, one group. */
        public static Conv2dParams defaults() {
            return new Conv2dParams(1, 1, 0, 0, 0, 0, 1, 1, 1);
        }

        /** Symmetric padding as PyTorch's {@code padding=(padH, padW)}. */
        public static Conv2dParams of(int strideH, int strideW, int padH, int padW, int dilationH, int dilationW,
                int groups) {
            return new Conv2dParams(strideH, strideW, padH, padH, padW, padW, dilationH, dilationW, groups);
        }

        /** {@code (h + padTop + padBottom − dH·(kH − 1) − 1) / sH + 1} (floor); may be ≤ 0 for too small an input. */
        public long outHeight(long h, long kH) {
            return Math.floorDiv(h + padTop + padBottom - (long) dilationH * (kH - 1) - 1, strideH) + 1;
        }

        /** As {@link #outHeight} along the width. */
        public long outWidth(long w, long kW) {
            return Math.floorDiv(w + padLeft + padRight - (long) dilationW * (kW - 1) - 1, strideW) + 1;
        }

        /**
         * Checks an input shape {@code [N, C_in, H, W]} against a weight shape
         * {@code [C_out, C_in/groups, kH, kW]} and returns the output shape {@code [N, C_out, OH, OW]};
         * throws {@link IllegalArgumentException} naming {@code op} and the dimension that is wrong.
         */
        public long[] outputShape(String op, long[] x, long[] w) {
            if (x.length != 4) {
                throw new IllegalArgumentException(op + ": input must be [N, C, H, W], got " + Arrays.toString(x));
            }
            if (w.length != 4) {
                throw new IllegalArgumentException(op + ": weight must be [C_out, C_in/groups, kH, kW], got "
                        + Arrays.toString(w));
            }
            if (w[0] % groups != 0) {
                throw new IllegalArgumentException(op + ": groups " + groups + " does not divide the "
                        + w[0] + " output channels of weight " + Arrays.toString(w));
            }
            if (x[1] % groups != 0) {
                throw new IllegalArgumentException(op + ": groups " + groups + " does not divide the "
                        + x[1] + " input channels of input " + Arrays.toString(x));
            }
            if (x[1] != w[1] * groups) {
                throw new IllegalArgumentException(op + ": input " + Arrays.toString(x) + " has " + x[1]
                        + " channels, weight " + Arrays.toString(w) + " expects " + w[1] * groups
                        + (groups == 1 ? "" : " (" + w[1] + " per group x " + groups + " groups)"));
            }
            long oh = outHeight(x[2], w[2]);
            long ow = outWidth(x[3], w[3]);
            if (oh < 1) {
                throw new IllegalArgumentException(op + ": input height " + x[2] + " (padded " + padTop + " + "
                        + padBottom + ") is smaller than the kernel height " + w[2]
                        + (dilationH == 1 ? "" : " dilated by " + dilationH + " (" + ((w[2] - 1) * dilationH + 1) + ")")
                        + "; input " + Arrays.toString(x) + ", weight " + Arrays.toString(w));
            }
            if (ow < 1) {
                throw new IllegalArgumentException(op + ": input width " + x[3] + " (padded " + padLeft + " + "
                        + padRight + ") is smaller than the kernel width " + w[3]
                        + (dilationW == 1 ? "" : " dilated by " + dilationW + " (" + ((w[3] - 1) * dilationW + 1) + ")")
                        + "; input " + Arrays.toString(x) + ", weight " + Arrays.toString(w));
            }
            return new long[] {x[0], w[0], oh, ow};
        }
    }

    /**
     * Geometry of a 2-D pooling window: kernel, strides, padding per side, dilations, ceil mode (the
     * output size rounds up, but the last window must start inside the input or its top/left padding)
     * and, for average pooling, whether the divisor counts padding.
     */
    record Pool2dParams(int kernelH, int kernelW, int strideH, int strideW, int padTop, int padBottom, int padLeft,
            int padRight, int dilationH, int dilationW, boolean ceilMode, boolean countIncludePad) {

        public Pool2dParams {
            if (kernelH < 1 || kernelW < 1) {
                throw new IllegalArgumentException("pool2d: kernel size must be >= 1, got (" + kernelH + ", "
                        + kernelW + ")");
            }
            if (strideH < 1 || strideW < 1) {
                throw new IllegalArgumentException("pool2d: stride must be >= 1, got (" + strideH + ", " + strideW + ")");
            }
            if (dilationH < 1 || dilationW < 1) {
                throw new IllegalArgumentException("pool2d: dilation must be >= 1, got (" + dilationH + ", "
                        + dilationW + ")");
            }
            if (padTop < 0 || padBottom < 0 || padLeft < 0 || padRight < 0) {
                throw new IllegalArgumentException("pool2d: padding must be >= 0, got (top " + padTop + ", bottom "
                        + padBottom + ", left " + padLeft + ", right " + padRight + ")");
            }
        }

        /** Symmetric padding, as PyTorch's pooling layers take it. */
        public static Pool2dParams of(int kernelH, int kernelW, int strideH, int strideW, int padH, int padW,
                int dilationH, int dilationW, boolean ceilMode, boolean countIncludePad) {
            return new Pool2dParams(kernelH, kernelW, strideH, strideW, padH, padH, padW, padW, dilationH, dilationW,
                    ceilMode, countIncludePad);
        }

        /** Output height for input height {@code h}, as PyTorch's {@code pooling_output_shape}; may be ≤ 0. */
        public long outHeight(long h) {
            return outSize(h, kernelH, strideH, padTop, padBottom, dilationH, ceilMode);
        }

        /** Output width for input width {@code w}. */
        public long outWidth(long w) {
            return outSize(w, kernelW, strideW, padLeft, padRight, dilationW, ceilMode);
        }

        /**
         * Checks an input shape {@code [N, C, H, W]} and returns the output shape {@code [N, C, OH, OW]};
         * throws {@link IllegalArgumentException} naming {@code op} and the dimension when the window
         * is larger than the padded input.
         */
        public long[] outputShape(String op, long[] x) {
            if (x.length != 4) {
                throw new IllegalArgumentException(op + ": input must be [N, C, H, W], got " + Arrays.toString(x));
            }
            long oh = outHeight(x[2]);
            long ow = outWidth(x[3]);
            if (oh < 1) {
                throw new IllegalArgumentException(op + ": pooling window height " + kernelH
                        + (dilationH == 1 ? "" : " dilated by " + dilationH + " (" + ((kernelH - 1L) * dilationH + 1) + ")")
                        + " is larger than the padded input height " + (x[2] + padTop + padBottom) + " (input "
                        + Arrays.toString(x) + ", padding " + padTop + " + " + padBottom + ")");
            }
            if (ow < 1) {
                throw new IllegalArgumentException(op + ": pooling window width " + kernelW
                        + (dilationW == 1 ? "" : " dilated by " + dilationW + " (" + ((kernelW - 1L) * dilationW + 1) + ")")
                        + " is larger than the padded input width " + (x[3] + padLeft + padRight) + " (input "
                        + Arrays.toString(x) + ", padding " + padLeft + " + " + padRight + ")");
            }
            return new long[] {x[0], x[1], oh, ow};
        }

        private static long outSize(long in, int k, int s, int padBefore, int padAfter, int d, boolean ceil) {
            long span = in + padBefore + padAfter - (long) d * (k - 1) - 1;
            long out = (ceil ? Math.floorDiv(span + s - 1, s) : Math.floorDiv(span, s)) + 1;
            if (ceil && out > 0 && (out - 1) * s >= in + padBefore) {
                out--; // the last window would start in the bottom/right padding
            }
            return out;
        }

        /**
         * The average-pooling divisor of output position {@code (i, j)} for an {@code h × w} input:
         * the window clipped to the padded input (and, without {@code countIncludePad}, to the input).
         */
        public long divisor(long i, long j, long h, long w) {
            long h0 = i * strideH - padTop;
            long w0 = j * strideW - padLeft;
            long h1 = Math.min(h0 + kernelH, h + padBottom);
            long w1 = Math.min(w0 + kernelW, w + padRight);
            if (!countIncludePad) {
                h0 = Math.max(h0, 0);
                w0 = Math.max(w0, 0);
                h1 = Math.min(h1, h);
                w1 = Math.min(w1, w);
            }
            return (h1 - h0) * (w1 - w0);
        }
    }
}
