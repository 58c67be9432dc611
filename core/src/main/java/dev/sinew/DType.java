package dev.sinew;

/**
 * Element types a {@link Tensor} can hold.
 *
 * <p>{@code FLOAT32} is the training default; {@code FLOAT64} exists for gradient checks and users
 * who need it; {@code INT64} holds class labels and indices. Mixed-dtype arithmetic is refused:
 * convert explicitly with {@link Tensor#to(DType)}.
 */
public enum DType {
    FLOAT32(4, true),
    FLOAT64(8, true),
    INT64(8, false);

    private final int byteSize;
    private final boolean floating;

    DType(int byteSize, boolean floating) {
        this.byteSize = byteSize;
        this.floating = floating;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** Whether this is a floating-point type (and so may carry gradients). */
    public boolean isFloating() {
        return floating;
    }
}
