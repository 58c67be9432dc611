package dev.sinew.spi;

import dev.sinew.DType;
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

    // ---- recurrent layers (time-major, whole sequences) ----------------------------------------
    // Defaults in ComposedRnn (per layer and direction: one GEMM projecting the whole input sequence
    // for all gates, then per step one recurrent GEMM and the gate math as elementwise primitives);
    // the reference backend overrides them with the plain loops of ReferenceRnn, which define them.

    /**
     * How many elements of the data dtype {@link #rnnForward} keeps, in {@code reserve}, for
     * {@link #rnnBackward} on a sequence of {@code seqLen} steps and {@code batch} sequences; 0 when
     * the backend keeps nothing (core then passes a null reserve). The reserve's layout is private to
     * the backend: one that overrides {@code rnnForward}/{@code rnnBackward} overrides this too.
     */
    default long rnnReserveSize(RnnParams p, long seqLen, long batch) {
        return ComposedRnn.reserveSize(p, seqLen, batch);
    }

    /**
     * A whole stacked, optionally bidirectional recurrent layer over a sequence, with
     * {@code torch.nn.RNN/LSTM/GRU}'s semantics and parameter layout (dropout between layers is not
     * part of it: core runs one layer at a time when it applies dropout).
     *
     * <p>Operands, all contiguous row-major views of one floating dtype ({@code D} directions,
     * {@code L} layers, {@code H} hidden size, {@code P = }{@link RnnParams#outSize()} the size of the
     * hidden state, H or the LSTM projection size):
     * <ul>
     *   <li>{@code x} {@code [T, B, inputSize]} (time-major; core transposes batch-first input);</li>
     *   <li>{@code h0} {@code [L·D, B, P]} and, for LSTM, {@code c0} {@code [L·D, B, H]}, the initial
     *       states, row {@code l·D + d} for layer l, direction d (0 forward, 1 reverse); null means
     *       zeros;</li>
     *   <li>{@code weights}, in PyTorch's order ({@link RnnParams#weightNames()}, shapes
     *       {@link RnnParams#weightShapes()}): for each layer, for each direction, {@code w_ih}
     *       {@code [G·H, in_l]}, {@code w_hh} {@code [G·H, P]}, then with bias {@code b_ih},
     *       {@code b_hh} {@code [G·H]}, then with a projection {@code w_hr} {@code [P, H]};
     *       {@code in_0 = inputSize}, {@code in_l = D·P};</li>
     *   <li>outputs {@code y} {@code [T, B, D·P]} (the last layer's states, directions concatenated),
     *       {@code hN} {@code [L·D, B, P]} and, for LSTM only, {@code cN} {@code [L·D, B, H]} (else
     *       null): all overwritten;</li>
     *   <li>{@code reserve}: {@link #rnnReserveSize} elements that this call fills for the backward,
     *       or null when no backward will follow (inference).</li>
     * </ul>
     *
     * <p>One step of layer l, direction d, with {@code a = w_ih·x_t + b_ih + w_hh·h + b_hh} split
     * into gates in the order given (σ the logistic sigmoid):
     * <ul>
     *   <li>RNN_TANH / RNN_RELU: {@code h' = tanh(a)} / {@code relu(a)};</li>
     *   <li>LSTM, gates i, f, g, o: {@code i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)},
     *       {@code c' = f⊙c + i⊙g}, {@code h' = o⊙tanh(c')}, then {@code h' = w_hr·h'} with a
     *       projection;</li>
     *   <li>GRU, gates r, z, n: {@code r = σ(a_r), z = σ(a_z)},
     *       {@code n = tanh(w_in·x_t + b_in + r⊙(w_hn·h + b_hn))}, {@code h' = (1−z)⊙n + z⊙h}.</li>
     * </ul>
     * The forward direction runs t = 0 … T−1, the reverse direction t = T−1 … 0; layer l > 0 reads
     * layer l−1's output (both directions concatenated).
     *
     * <p><b>Variable lengths</b>, as PyTorch's packed sequences: {@code lengths} (null: every
     * sequence has T steps) gives each sequence's length, 1 ≤ lengths[b] ≤ T, in any order. Sequence
     * b takes part only in steps t &lt; lengths[b]: its outputs at later steps are 0, its forward
     * final state is taken at t = lengths[b] − 1, and its reverse direction starts from h0 at
     * t = lengths[b] − 1 (its own end) and finishes at t = 0.
     */
    default void rnnForward(RnnParams p, long[] lengths, View x, View h0, View c0, List<View> weights, View y,
            View hN, View cN, View reserve) {
        ComposedRnn.forward(primitives(), p, lengths, x, h0, c0, weights, y, hN, cN, reserve);
    }

    /**
     * Gradients of {@link #rnnForward}, given the same {@code p}, {@code lengths}, inputs and
     * weights, its output {@code y} and the {@code reserve} it filled, and the upstream gradients
     * {@code dy} {@code [T, B, D·P]}, {@code dhN} {@code [L·D, B, P]} and, for LSTM, {@code dcN}
     * {@code [L·D, B, H]} (zeros where an output is unused; never null, except dcN for other modes).
     * Writes (overwrites) {@code dx} {@code [T, B, inputSize]}, {@code dh0}, {@code dc0} (shaped as
     * h0, c0 even when those were null) and {@code dWeights} (shaped and ordered as
     * {@code weights}); each of dx, dh0, dc0 may be null, and dWeights may be null, when that
     * gradient is not wanted. All views are contiguous, as in the forward. Outputs past a sequence's
     * end have no influence, so their dy is ignored; a sequence's state gradient passes unchanged
     * through the steps it skips.
     */
    default void rnnBackward(RnnParams p, long[] lengths, View x, View h0, View c0, List<View> weights, View y,
            View reserve, View dy, View dhN, View dcN, View dx, View dh0, View dc0, List<View> dWeights) {
        ComposedRnn.backward(primitives(), p, lengths, x, h0, c0, weights, y, reserve, dy, dhN, dcN, dx, dh0, dc0,
                dWeights);
    }

    /** The recurrent cell of {@link #rnnForward}; {@link #gates()} gate blocks of H rows each. */
    enum RnnMode {
        /** {@code h' = tanh(w_ih·x + b_ih + w_hh·h + b_hh)}. */
        RNN_TANH(1),
        /** {@code h' = relu(w_ih·x + b_ih + w_hh·h + b_hh)}. */
        RNN_RELU(1),
        /** Long short-term memory, gates i, f, g, o. */
        LSTM(4),
        /** Gated recurrent unit, gates r, z, n. */
        GRU(3);

        private final int gates;

        RnnMode(int gates) {
            this.gates = gates;
        }

        /** Gate blocks stacked in the weights: 1, 4 or 3. */
        public int gates() {
            return gates;
        }
    }

    /**
     * The configuration of a recurrent layer stack (what cuDNN calls the RNN descriptor); the data
     * (sequence length, batch, lengths) travels with each call. {@code projSize} is 0 for none (only
     * LSTM may have one, and it must be below {@code hiddenSize}). Every value is checked here, and
     * {@link #check} checks a call's operands, so every backend rejects bad input with the same
     * messages.
     */
    record RnnParams(RnnMode mode, long inputSize, long hiddenSize, long projSize, int numLayers,
            boolean bidirectional, boolean bias) {

        public RnnParams {
            if (mode == null) {
                throw new IllegalArgumentException("rnn: mode must not be null");
            }
            if (inputSize < 1 || hiddenSize < 1) {
                throw new IllegalArgumentException("rnn: input size and hidden size must be >= 1, got " + inputSize
                        + " and " + hiddenSize);
            }
            if (numLayers < 1) {
                throw new IllegalArgumentException("rnn: number of layers must be >= 1, got " + numLayers);
            }
            if (projSize < 0) {
                throw new IllegalArgumentException("rnn: projection size must be >= 0, got " + projSize);
            }
            if (projSize > 0 && mode != RnnMode.LSTM) {
                throw new IllegalArgumentException("rnn: a projection (proj_size " + projSize + ") needs LSTM, not "
                        + mode);
            }
            if (projSize >= hiddenSize) {
                throw new IllegalArgumentException("rnn: proj_size " + projSize + " must be smaller than hidden_size "
                        + hiddenSize);
            }
        }

        /** 1, or 2 when bidirectional. */
        public int directions() {
            return bidirectional ? 2 : 1;
        }

        /** The size P of the hidden state and of each direction's output: projSize, or hiddenSize. */
        public long outSize() {
            return projSize > 0 ? projSize : hiddenSize;
        }

        /** Rows of w_ih and w_hh: gates × hiddenSize. */
        public long gateSize() {
            return mode.gates() * hiddenSize;
        }

        /** Input features of layer {@code l}: inputSize for layer 0, else directions × P. */
        public long layerInputSize(int l) {
            return l == 0 ? inputSize : directions() * outSize();
        }

        /** Weight tensors per layer and direction: 2, + 2 with bias, + 1 with a projection. */
        public int weightsPerCell() {
            return 2 + (bias ? 2 : 0) + (projSize > 0 ? 1 : 0);
        }

        /** Index in the weight list of the first weight ({@code w_ih}) of layer l, direction d. */
        public int weightIndex(int l, int d) {
            return (l * directions() + d) * weightsPerCell();
        }

        /** PyTorch's parameter names, in the weight order ({@code weight_ih_l0}, …, {@code weight_hr_l1_reverse}). */
        public List<String> weightNames() {
            List<String> names = new java.util.ArrayList<>();
            for (int l = 0; l < numLayers; l++) {
                for (int d = 0; d < directions(); d++) {
                    String sfx = "_l" + l + (d == 1 ? "_reverse" : "");
                    names.add("weight_ih" + sfx);
                    names.add("weight_hh" + sfx);
                    if (bias) {
                        names.add("bias_ih" + sfx);
                        names.add("bias_hh" + sfx);
                    }
                    if (projSize > 0) {
                        names.add("weight_hr" + sfx);
                    }
                }
            }
            return names;
        }

        /** The shapes of the weights, in order. */
        public List<long[]> weightShapes() {
            List<long[]> shapes = new java.util.ArrayList<>();
            for (int l = 0; l < numLayers; l++) {
                for (int d = 0; d < directions(); d++) {
                    shapes.add(new long[] {gateSize(), layerInputSize(l)});
                    shapes.add(new long[] {gateSize(), outSize()});
                    if (bias) {
                        shapes.add(new long[] {gateSize()});
                        shapes.add(new long[] {gateSize()});
                    }
                    if (projSize > 0) {
                        shapes.add(new long[] {projSize, hiddenSize});
                    }
                }
            }
            return shapes;
        }

        /** Shape of h0, hN: {@code [L·D, B, P]}. */
        public long[] hiddenShape(long batch) {
            return new long[] {(long) numLayers * directions(), batch, outSize()};
        }

        /** Shape of c0, cN: {@code [L·D, B, H]}. */
        public long[] cellShape(long batch) {
            return new long[] {(long) numLayers * directions(), batch, hiddenSize};
        }

        /** Shape of y: {@code [T, B, D·P]}. */
        public long[] outputShape(long seqLen, long batch) {
            return new long[] {seqLen, batch, directions() * outSize()};
        }

        /**
         * Checks the operands of a forward call (any of h0, c0 may be null; cN must be null unless
         * LSTM) and {@code lengths}, throwing {@link IllegalArgumentException} naming {@code op} and
         * the shapes; returns {@code [T, B]}.
         */
        public long[] check(String op, long[] lengths, View x, View h0, View c0, List<View> weights, View y, View hN,
                View cN) {
            if (x.rank() != 3) {
                throw new IllegalArgumentException(op + ": input must be [T, B, " + inputSize + "], got "
                        + Arrays.toString(x.shape()));
            }
            if (!x.dtype().isFloating()) {
                throw new IllegalArgumentException(op + ": input must be floating, got " + x.dtype());
            }
            long t = x.shape()[0];
            long b = x.shape()[1];
            checkData(op, lengths, x.shape());
            requireShape(op, "h0", h0, hiddenShape(b));
            requireShape(op, "c0", c0, cellShape(b));
            if (c0 != null && mode != RnnMode.LSTM) {
                throw new IllegalArgumentException(op + ": an initial cell state c0 is only for LSTM, not " + mode);
            }
            checkWeights(op, weights, x.dtype());
            if (y == null || hN == null) {
                throw new IllegalArgumentException(op + ": the outputs y and hN must not be null");
            }
            requireShape(op, "y", y, outputShape(t, b));
            requireShape(op, "hN", hN, hiddenShape(b));
            if (mode == RnnMode.LSTM) {
                requireShape(op, "cN", cN, cellShape(b));
            } else if (cN != null) {
                throw new IllegalArgumentException(op + ": a final cell state cN is only for LSTM, not " + mode);
            }
            for (View v : new View[] {x, h0, c0, y, hN, cN}) {
                if (v != null && v.dtype() != x.dtype()) {
                    throw new IllegalArgumentException(op + ": operand " + v + " is not " + x.dtype()
                            + " like the input");
                }
                if (v != null && !v.isContiguous()) {
                    throw new IllegalArgumentException(op + ": operand " + v + " must be contiguous");
                }
            }
            return new long[] {t, b};
        }

        /**
         * Checks an input shape {@code [T, B, inputSize]} and the lengths: T ≥ 1, B ≥ 1, one length per
         * sequence, each in [1, T].
         */
        public void checkData(String op, long[] lengths, long[] x) {
            if (x.length != 3 || x[2] != inputSize) {
                throw new IllegalArgumentException(op + ": input " + Arrays.toString(x) + " must be [T, B, "
                        + inputSize + "] (input_size " + inputSize + ")");
            }
            if (x[0] < 1) {
                throw new IllegalArgumentException(op + ": input " + Arrays.toString(x)
                        + " is a sequence of length 0; need at least one step");
            }
            if (x[1] < 1) {
                throw new IllegalArgumentException(op + ": input " + Arrays.toString(x) + " has an empty batch");
            }
            if (lengths != null) {
                if (lengths.length != x[1]) {
                    throw new IllegalArgumentException(op + ": lengths has " + lengths.length
                            + " entries but the batch of input " + Arrays.toString(x) + " has " + x[1]
                            + " sequences");
                }
                for (int i = 0; i < lengths.length; i++) {
                    if (lengths[i] < 1 || lengths[i] > x[0]) {
                        throw new IllegalArgumentException(op + ": lengths[" + i + "] = " + lengths[i]
                                + " is outside [1, " + x[0] + "] for input " + Arrays.toString(x)
                                + (lengths[i] < 1 ? " (a sequence needs at least one step)" : " (longer than T)"));
                    }
                }
            }
        }

        /** Checks the number, shapes, dtype and contiguity of a weight (or weight-gradient) list. */
        public void checkWeights(String op, List<View> weights, DType dtype) {
            List<long[]> shapes = weightShapes();
            if (weights == null || weights.size() != shapes.size()) {
                throw new IllegalArgumentException(op + ": expected " + shapes.size() + " weight tensors "
                        + weightNames() + ", got " + (weights == null ? "null" : weights.size()));
            }
            List<String> names = weightNames();
            for (int i = 0; i < shapes.size(); i++) {
                View w = weights.get(i);
                if (w == null || !Arrays.equals(w.shape(), shapes.get(i))) {
                    throw new IllegalArgumentException(op + ": " + names.get(i) + " has shape "
                            + (w == null ? "null" : Arrays.toString(w.shape())) + ", expected "
                            + Arrays.toString(shapes.get(i)));
                }
                if (w.dtype() != dtype) {
                    throw new IllegalArgumentException(op + ": " + names.get(i) + " is " + w.dtype() + ", not "
                            + dtype);
                }
                if (!w.isContiguous()) {
                    throw new IllegalArgumentException(op + ": " + names.get(i) + " must be contiguous, got " + w);
                }
            }
        }

        private static void requireShape(String op, String arg, View v, long[] shape) {
            if (v != null && !Arrays.equals(v.shape(), shape)) {
                throw new IllegalArgumentException(op + ": " + arg + " has shape " + Arrays.toString(v.shape())
                        + ", expected " + Arrays.toString(shape));
            }
        }
    }
}
