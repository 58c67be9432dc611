package dev.sinew.nn;

import dev.sinew.Functional;
import dev.sinew.Tensor;

/**
 * Adaptive average pooling to a fixed output size, as {@code torch.nn.AdaptiveAvgPool2d}: output
 * cell {@code (i, j)} of {@code [N, C, OH, OW]} averages input rows {@code [⌊i·H/OH⌋, ⌈(i+1)·H/OH⌉)}
 * and the columns likewise (windows may overlap when OH does not divide H).
 *
 * <p>Holds no tensors; immutable, so thread-safe.
 */
public final class AdaptiveAvgPool2d extends Module {
    private final long outH;
    private final long outW;

    /** A square output {@code size × size} ({@code 1} gives global average pooling). */
    public AdaptiveAvgPool2d(long size) {
        this(size, size);
    }

    public AdaptiveAvgPool2d(long outH, long outW) {
        if (outH < 1 || outW < 1) {
            throw new IllegalArgumentException("AdaptiveAvgPool2d: output size must be positive, got (" + outH + ", "
                    + outW + ")");
        }
        this.outH = outH;
        this.outW = outW;
    }

    public long outH() {
        return outH;
    }

    public long outW() {
        return outW;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Functional.adaptiveAvgPool2d(x, outH, outW);
    }

    @Override
    protected String extraRepr() {
        return "output_size=(" + outH + ", " + outW + ")";
    }
}
