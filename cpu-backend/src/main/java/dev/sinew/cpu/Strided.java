package dev.sinew.cpu;

import java.util.Arrays;

/**
 * A row-major iteration space shared by up to four operands of one shape, each with its own element
 * strides (0 for a broadcast axis). Axes of size 1 are dropped and neighbouring axes are merged
 * wherever every operand allows it, so a contiguous tensor becomes one long row, a {@code [1, N]}
 * row vector broadcast over {@code [M, N]} becomes M rows of N with inner strides (0-offset, 1), and a
 * scalar operand has stride 0 everywhere.
 *
 * <p>{@link #forRange} walks any linear range of the space as runs along the innermost axis, which is
 * where kernels vectorise (inner stride 1) or broadcast (inner stride 0). Immutable and thread-safe;
 * lives for one op.
 */
final class Strided {
    /** One run of {@code n} elements; {@code o0..o3} are the operands' element offsets of its first element. */
    @FunctionalInterface
    interface Row {
        void run(long o0, long o1, long o2, long o3, long n);
    }

    final int rank;          // >= 1
    final long[] shape;      // [rank], coalesced
    final long[][] strides;  // [operand][rank]
    final long inner;        // shape[rank - 1]
    final long numel;

    private Strided(long[] shape, long[][] strides) {
        this.rank = shape.length;
        this.shape = shape;
        this.strides = strides;
        this.inner = shape[rank - 1];
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        this.numel = n;
    }

    /** The coalesced space of {@code shape} for operands with the given strides (each of shape's rank). */
    static Strided of(long[] shape, long[]... operandStrides) {
        int k = operandStrides.length;
        if (shape.length == 0) {    // rank 0: one element
            return new Strided(new long[] {1}, new long[k][1]);
        }
        long[] rs = new long[shape.length];          // inner-first
        long[][] rst = new long[k][shape.length];
        int r = 0;
        for (int d = shape.length - 1; d >= 0; d--) {
            long size = shape[d];
            if (size == 1) {
                continue;
            }
            if (r > 0) {
                boolean merge = true;
                for (int j = 0; j < k && merge; j++) {
                    merge = operandStrides[j][d] == rst[j][r - 1] * rs[r - 1];
                }
                if (merge) {
                    rs[r - 1] *= size;
                    continue;
                }
            }
            rs[r] = size;
            for (int j = 0; j < k; j++) {
                rst[j][r] = operandStrides[j][d];
            }
            r++;
        }
        if (r == 0) {               // every axis has size 1: one element
            rs[0] = 1;
            r = 1;
        }
        long[] outShape = new long[r];
        long[][] outStrides = new long[k][r];
        for (int i = 0; i < r; i++) {
            outShape[i] = rs[r - 1 - i];
            for (int j = 0; j < k; j++) {
                outStrides[j][i] = rst[j][r - 1 - i];
            }
        }
        return new Strided(outShape, outStrides);
    }

    /** The innermost stride of operand {@code k}. */
    long innerStride(int k) {
        return strides[k][rank - 1];
    }

    /** Whether operand {@code k} is laid out exactly row-major (so linear element i is at base + i). */
    boolean contiguous(int k) {
        return rank == 1 && strides[k][0] == 1;
    }

    /** One run for any number of operands; {@code off} is reused between calls (copy what you keep). */
    @FunctionalInterface
    interface RowN {
        void run(long[] off, long n);
    }

    /**
     * Calls {@code body} for the runs covering row-major elements {@code [from, to)}; {@code base[k]}
     * is operand k's element offset (its view's offset).
     */
    void forRange(long[] base, long from, long to, Row body) {
        forRangeN(base, from, to, (o, n) -> body.run(o[0], o[1], o[2], o[3], n));
    }

    /** {@link #forRange} for any number of operands: {@code off[k]} is operand k's offset of the run. */
    void forRangeN(long[] base, long from, long to, RowN body) {
        if (from >= to) {
            return;
        }
        int k = strides.length;
        int outer = rank - 1;
        long[] coord = new long[Math.max(outer, 1)];
        long[] rowOff = new long[k];
        long[] off = new long[Math.max(k, 4)];
        long row = from / inner;
        long col = from - row * inner;
        for (int d = outer - 1; d >= 0; d--) {
            coord[d] = row % shape[d];
            row /= shape[d];
        }
        long[] is = new long[k];
        for (int j = 0; j < k; j++) {
            long o = base[j];
            for (int d = 0; d < outer; d++) {
                o += coord[d] * strides[j][d];
            }
            rowOff[j] = o;
            is[j] = strides[j][rank - 1];
        }
        long pos = from;
        while (true) {
            long n = Math.min(inner - col, to - pos);
            for (int j = 0; j < k; j++) {
                off[j] = rowOff[j] + col * is[j];
            }
            body.run(off, n);
            pos += n;
            if (pos >= to) {
                return;
            }
            col = 0;
            for (int d = outer - 1; d >= 0; d--) {
                coord[d]++;
                for (int j = 0; j < k; j++) {
                    rowOff[j] += strides[j][d];
                }
                if (coord[d] < shape[d]) {
                    break;
                }
                coord[d] = 0;
                for (int j = 0; j < k; j++) {
                    rowOff[j] -= shape[d] * strides[j][d];
                }
            }
        }
    }

    @Override
    public String toString() {
        return "Strided" + Arrays.toString(shape) + Arrays.deepToString(strides);
    }
}
