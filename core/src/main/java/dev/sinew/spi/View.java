package dev.sinew.spi;

import dev.sinew.DType;
import java.util.Arrays;

/**
 * A strided window onto a {@link Storage}: what every SPI op takes as an operand.
 *
 * <p>Element {@code (i0, i1, …)} lives at {@code offset + Σ ik·strides[k]} (in elements, not bytes).
 * A stride of 0 repeats data (broadcast); any other pattern (transposes, slices) is allowed. Views are
 * pure bookkeeping: they own nothing, and the storage they point at is owned by the tensor(s) that
 * made them. The arrays are never mutated after construction; callers must not mutate them either.
 */
public record View(Storage storage, long offset, long[] shape, long[] strides) {

    public View {
        if (shape.length != strides.length) {
            throw new IllegalArgumentException(
                    "view: shape " + Arrays.toString(shape) + " and strides " + Arrays.toString(strides)
                            + " differ in rank");
        }
    }

    /** A contiguous row-major view over the start of {@code storage}. */
    public static View contiguous(Storage storage, long... shape) {
        return new View(storage, 0, shape, contiguousStrides(shape));
    }

    /** Row-major strides for {@code shape}. */
    public static long[] contiguousStrides(long[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    public DType dtype() {
        return storage.dtype();
    }

    public int rank() {
        return shape.length;
    }

    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** True when elements are laid out row-major with no gaps, so element i is at {@code offset + i}. */
    public boolean isContiguous() {
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != acc) {
                return false;
            }
            acc *= shape[i];
        }
        return true;
    }

    /** Storage index of the element with row-major linear index {@code linear}. */
    public long indexOf(long linear) {
        long idx = offset;
        for (int i = shape.length - 1; i >= 0; i--) {
            long d = shape[i];
            idx += (linear % d) * strides[i];
            linear /= d;
        }
        return idx;
    }

    /** The same elements seen with a new shape and strides (no checks: callers compute them). */
    public View with(long newOffset, long[] newShape, long[] newStrides) {
        return new View(storage, newOffset, newShape, newStrides);
    }

    @Override
    public String toString() {
        return "View" + Arrays.toString(shape) + "/" + Arrays.toString(strides) + "@" + offset + " " + dtype();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof View v && v.storage == storage && v.offset == offset
                && Arrays.equals(v.shape, shape) && Arrays.equals(v.strides, strides);
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(storage) * 31 + Long.hashCode(offset) * 17 + Arrays.hashCode(shape);
    }
}
