package dev.sinew.reference;

import dev.sinew.spi.View;

/**
 * Walks a shape in row-major order while tracking one storage index per operand, so a loop over
 * several strided views costs one add per operand per element instead of a divide per axis.
 *
 * <p>Usage: {@code for (long i = 0; i < n; i++, it.next()) { ... it.pos(k) ... }}. After the last
 * element {@link #next()} wraps back to the start. Operand {@code k} has its own offset and strides
 * (stride 0 repeats, as for broadcast views). Mutable and single-threaded: one per loop.
 */
final class Odometer {
    private final long[] shape;
    private final long[][] strides; // [operand][axis]
    private final long[] pos;       // [operand] current storage index
    private final long[] ctr;       // [axis] current coordinate

    /** Walks {@code shape} over views that all have that shape. */
    Odometer(long[] shape, View... views) {
        this(shape, offsets(views), strides(views));
    }

    /** Walks {@code shape} over operands given by raw offsets and strides ({@code strides[k].length == rank}). */
    Odometer(long[] shape, long[] offsets, long[][] strides) {
        this.shape = shape;
        this.strides = strides;
        this.pos = offsets.clone();
        this.ctr = new long[shape.length];
    }

    private static long[] offsets(View[] views) {
        long[] o = new long[views.length];
        for (int k = 0; k < views.length; k++) {
            o[k] = views[k].offset();
        }
        return o;
    }

    private static long[][] strides(View[] views) {
        long[][] s = new long[views.length][];
        for (int k = 0; k < views.length; k++) {
            s[k] = views[k].strides();
        }
        return s;
    }

    /** Storage index of operand {@code k} at the current element. */
    long pos(int k) {
        return pos[k];
    }

    /** Coordinate of the current element along {@code axis}. */
    long coordinate(int axis) {
        return ctr[axis];
    }

    /** Moves to the next element in row-major order. */
    void next() {
        for (int d = shape.length - 1; d >= 0; d--) {
            if (++ctr[d] < shape[d]) {
                for (int k = 0; k < pos.length; k++) {
                    pos[k] += strides[k][d];
                }
                return;
            }
            ctr[d] = 0;
            for (int k = 0; k < pos.length; k++) {
                pos[k] -= strides[k][d] * (shape[d] - 1);
            }
        }
    }
}
