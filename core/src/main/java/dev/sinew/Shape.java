package dev.sinew;

import java.util.Arrays;

/**
 * An immutable tensor shape: the size of each dimension, outermost first.
 *
 * <p>A rank-0 shape (no dimensions) describes a scalar with one element. Every size must be
 * positive; Sinew has no empty tensors, so an empty batch is reported where it is made.
 */
public final class Shape {
    private final long[] dims;

    private Shape(long[] dims) {
        this.dims = dims;
    }

    /** A shape from its sizes; throws {@link IllegalArgumentException} on a size below 1. */
    public static Shape of(long... dims) {
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] <= 0) {
                throw new IllegalArgumentException(
                        "shape " + Arrays.toString(dims) + ": dimension " + i + " has size " + dims[i]
                                + ", sizes must be positive");
            }
        }
        return new Shape(dims.clone());
    }

    /** A shape from int sizes. */
    public static Shape of(int... dims) {
        long[] l = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            l[i] = dims[i];
        }
        return of(l);
    }

    /** The scalar shape {@code []}. */
    public static Shape scalar() {
        return new Shape(new long[0]);
    }

    public int rank() {
        return dims.length;
    }

    /** Size of dimension {@code i}; negative {@code i} counts from the end. */
    public long size(int i) {
        return dims[axis(i)];
    }

    /** Normalises a possibly negative axis, with a clear error when out of range. */
    public int axis(int i) {
        int a = i < 0 ? i + dims.length : i;
        if (a < 0 || a >= dims.length) {
            throw new IllegalArgumentException(
                    "axis " + i + " is out of range for shape " + this + " (rank " + dims.length + ")");
        }
        return a;
    }

    /** Total number of elements. */
    public long numel() {
        long n = 1;
        for (long d : dims) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** A copy of the sizes. */
    public long[] toArray() {
        return dims.clone();
    }

    /** Row-major (contiguous) strides for this shape, in elements. */
    public long[] contiguousStrides() {
        long[] s = new long[dims.length];
        long acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= dims[i];
        }
        return s;
    }

    /**
     * The shape two operands broadcast to under NumPy/PyTorch rules, or an
     * {@link IllegalArgumentException} naming {@code op} and both shapes.
     */
    public static Shape broadcast(String op, Shape a, Shape b) {
        int r = Math.max(a.rank(), b.rank());
        long[] out = new long[r];
        for (int i = 0; i < r; i++) {
            int ia = a.rank() - r + i;
            int ib = b.rank() - r + i;
            long da = ia >= 0 ? a.dims[ia] : 1;
            long db = ib >= 0 ? b.dims[ib] : 1;
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes " + a + " and " + b
                        + " cannot be broadcast (dimension " + i + ": " + da + " vs " + db + ")");
            }
            out[i] = Math.max(da, db);
        }
        return new Shape(out);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
