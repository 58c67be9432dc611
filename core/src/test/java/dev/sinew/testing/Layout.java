package dev.sinew.testing;

import java.util.Arrays;

/**
 * Memory layouts a test operand can have: where its elements sit in its storage. Each layout maps a
 * logical shape to a {@link Geometry} (storage size, offset, strides), so the same op can be run on
 * contiguous, sliced, strided, permuted and broadcast views of the same logical shape.
 *
 * <p>Every geometry leaves {@link #PAD} spare elements after the last one it addresses, so a backend
 * that writes past the end of a view is caught by comparing whole storages. Broadcast layouts
 * ({@link #isBroadcast()}) repeat elements and are for inputs only.
 */
public enum Layout {
    /** Row-major, no gaps, offset 0. */
    CONTIGUOUS,
    /** A window {@code [1 : 1+d]} of a parent with every dimension 2 larger (offset, row gaps). */
    SLICED,
    /** Every other element: row-major strides doubled, offset 1. */
    STRIDED,
    /** All axes reversed in memory (column-major), as after {@code permute(r-1, …, 0)}. */
    PERMUTED,
    /** The last two axes swapped in memory (a transposed matrix: strides {@code [·, 1, M]}). */
    TRANSPOSED,
    /** The first axis of size > 1 has stride 0 (as after {@code expand}). */
    BROADCAST_FIRST,
    /** The last axis of size > 1 has stride 0. */
    BROADCAST_LAST,
    /** Every stride 0: one element seen everywhere. */
    SCALAR;

    /** Spare storage elements after the last addressed one. */
    public static final int PAD = 3;

    /**
     * Where a view's elements live: the storage needs {@code elements} elements, and element
     * {@code (i0, i1, …)} is at {@code offset + Σ ik·strides[k]}.
     */
    public record Geometry(long elements, long offset, long[] strides) {
        /** Geometry for explicit offset and strides (non-negative), with {@link #PAD} spare elements. */
        public static Geometry of(long offset, long[] strides, long[] shape) {
            long last = offset;
            for (int i = 0; i < shape.length; i++) {
                if (strides[i] < 0) {
                    throw new IllegalArgumentException("negative stride in " + Arrays.toString(strides));
                }
                last += (shape[i] - 1) * strides[i];
            }
            return new Geometry(last + 1 + PAD, offset, strides.clone());
        }

        /** Storage index of the element with row-major index {@code linear} of a view of {@code shape}. */
        public long indexOf(long[] shape, long linear) {
            long idx = offset;
            for (int i = shape.length - 1; i >= 0; i--) {
                idx += (linear % shape[i]) * strides[i];
                linear /= shape[i];
            }
            return idx;
        }

        @Override
        public String toString() {
            return "Geometry[elements=" + elements + ", offset=" + offset + ", strides=" + Arrays.toString(strides) + "]";
        }
    }

    /** Whether this layout repeats elements (stride 0), so it cannot be an output. */
    public boolean isBroadcast() {
        return this == BROADCAST_FIRST || this == BROADCAST_LAST || this == SCALAR;
    }

    /** The geometry of a view of {@code shape} in this layout. */
    public Geometry geometry(long... shape) {
        int r = shape.length;
        long[] contiguous = rowMajor(shape);
        return switch (this) {
            case CONTIGUOUS -> Geometry.of(0, contiguous, shape);
            case SLICED -> {
                long[] parent = new long[r];
                for (int i = 0; i < r; i++) {
                    parent[i] = shape[i] + 2;
                }
                long[] ps = rowMajor(parent);
                long offset = 0;
                for (long s : ps) {
                    offset += s; // start at index 1 along every axis
                }
                yield Geometry.of(offset, ps, shape);
            }
            case STRIDED -> {
                long[] s = new long[r];
                for (int i = 0; i < r; i++) {
                    s[i] = 2 * contiguous[i];
                }
                yield Geometry.of(1, s, shape);
            }
            case PERMUTED -> {
                long[] s = new long[r];
                long acc = 1;
                for (int i = 0; i < r; i++) {
                    s[i] = acc;
                    acc *= shape[i];
                }
                yield Geometry.of(0, s, shape);
            }
            case TRANSPOSED -> {
                if (r < 2) {
                    yield Geometry.of(0, contiguous, shape);
                }
                long[] swapped = shape.clone();
                swapped[r - 2] = shape[r - 1];
                swapped[r - 1] = shape[r - 2];
                long[] s = rowMajor(swapped);
                long t = s[r - 2];
                s[r - 2] = s[r - 1];
                s[r - 1] = t;
                yield Geometry.of(0, s, shape);
            }
            case BROADCAST_FIRST, BROADCAST_LAST -> {
                int axis = -1;
                for (int i = 0; i < r; i++) {
                    if (shape[i] > 1 && (axis < 0 || this == BROADCAST_LAST)) {
                        axis = i;
                    }
                }
                if (axis < 0) {
                    yield Geometry.of(0, contiguous, shape);
                }
                long[] stored = shape.clone();
                stored[axis] = 1;
                long[] s = rowMajor(stored);
                s[axis] = 0;
                yield Geometry.of(0, s, shape);
            }
            case SCALAR -> Geometry.of(0, new long[r], shape);
        };
    }

    private static long[] rowMajor(long[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }
}
