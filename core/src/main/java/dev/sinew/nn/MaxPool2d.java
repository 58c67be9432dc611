package dev.sinew.nn;

import dev.sinew.Functional;
import dev.sinew.Tensor;
import dev.sinew.spi.FusedOps.Pool2dParams;

/**
 * Max pooling over NCHW input, as {@code torch.nn.MaxPool2d(kernel_size, stride, padding, dilation,
 * ceil_mode)}: input {@code [N, C, H, W]} (or {@code [C, H, W]}), output {@code [N, C, OH, OW]}.
 * Padding counts as −∞ and may be at most half the kernel; the stride defaults to the kernel. The
 * gradient of each window goes to its first maximum, as in PyTorch.
 *
 * <p>Holds no tensors; immutable, so thread-safe.
 */
public final class MaxPool2d extends Module {
    private final Pool2dParams params;

    /** Kernel {@code k}, stride {@code k}, no padding. */
    public MaxPool2d(int kernel) {
        this(new int[] {kernel}, null, new int[] {0}, new int[] {1}, false);
    }

    /** Square kernel and stride, no padding. */
    public MaxPool2d(int kernel, int stride) {
        this(new int[] {kernel}, new int[] {stride}, new int[] {0}, new int[] {1}, false);
    }

    /**
     * The general form: {@code kernel}, {@code stride} (null or empty: the kernel), {@code padding} and
     * {@code dilation} hold one value or (H, W).
     */
    public MaxPool2d(int[] kernel, int[] stride, int[] padding, int[] dilation, boolean ceilMode) {
        this.params = Functional.poolParams("MaxPool2d", kernel, stride, padding, dilation, ceilMode, true);
    }

    public Pool2dParams params() {
        return params;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() != 4 && x.rank() != 3) {
            throw new IllegalArgumentException("MaxPool2d: input must be [N, C, H, W] or [C, H, W], got " + x.shape());
        }
        return Functional.maxPool2d(x, params);
    }

    @Override
    protected String extraRepr() {
        Pool2dParams p = params;
        return "kernel_size=(" + p.kernelH() + ", " + p.kernelW() + "), stride=(" + p.strideH() + ", " + p.strideW()
                + "), padding=(" + p.padTop() + ", " + p.padLeft() + "), dilation=(" + p.dilationH() + ", "
                + p.dilationW() + "), ceil_mode=" + (p.ceilMode() ? "True" : "False");
    }
}
