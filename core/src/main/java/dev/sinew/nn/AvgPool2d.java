package dev.sinew.nn;

import dev.sinew.Functional;
import dev.sinew.Tensor;
import dev.sinew.spi.FusedOps.Pool2dParams;

/**
 * Average pooling over NCHW input, as {@code torch.nn.AvgPool2d(kernel_size, stride, padding,
 * ceil_mode, count_include_pad)}: zero padding of at most half the kernel; the stride defaults to the
 * kernel; with {@code countIncludePad} (the default) the divisor counts padded positions, but never
 * the part of a ceil-mode window that lies beyond the padded input.
 *
 * <p>Holds no tensors; immutable, so thread-safe.
 */
public final class AvgPool2d extends Module {
    private final Pool2dParams params;

    /** Kernel {@code k}, stride {@code k}, no padding. */
    public AvgPool2d(int kernel) {
        this(new int[] {kernel}, null, new int[] {0}, false, true);
    }

    /** Square kernel and stride, no padding. */
    public AvgPool2d(int kernel, int stride) {
        this(new int[] {kernel}, new int[] {stride}, new int[] {0}, false, true);
    }

    /**
     * The general form: {@code kernel}, {@code stride} (null or empty: the kernel) and {@code padding}
     * hold one value or (H, W).
     */
    public AvgPool2d(int[] kernel, int[] stride, int[] padding, boolean ceilMode, boolean countIncludePad) {
        this.params = Functional.poolParams("AvgPool2d", kernel, stride, padding, new int[] {1}, ceilMode,
                countIncludePad);
    }

    public Pool2dParams params() {
        return params;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() != 4 && x.rank() != 3) {
            throw new IllegalArgumentException("AvgPool2d: input must be [N, C, H, W] or [C, H, W], got " + x.shape());
        }
        return Functional.avgPool2d(x, params);
    }

    @Override
    protected String extraRepr() {
        Pool2dParams p = params;
        return "kernel_size=(" + p.kernelH() + ", " + p.kernelW() + "), stride=(" + p.strideH() + ", " + p.strideW()
                + "), padding=(" + p.padTop() + ", " + p.padLeft() + "), ceil_mode=" + (p.ceilMode() ? "True" : "False")
                + ", count_include_pad=" + (p.countIncludePad() ? "True" : "False");
    }
}
