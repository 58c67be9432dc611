package dev.sinew.cpu;

import dev.sinew.DType;
import dev.sinew.spi.HostStorage;
import dev.sinew.spi.View;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * One operand of a kernel: a view's memory (fetched once per op, which checks that the storage is
 * still open), dtype, element offset, shape and element strides. Also the element accessors every
 * scalar path uses; they define conversions exactly as the reference backend does (a store into
 * INT64 is Java's {@code (long)} cast, a float store rounds to nearest).
 *
 * <p>Immutable; lives for one op. The segment is only valid while the caller holds the storage.
 */
record Arg(MemorySegment seg, DType dtype, long offset, long[] shape, long[] strides) {
    static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    static final ValueLayout.OfDouble D = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG_UNALIGNED;
    static final ValueLayout.OfInt I = ValueLayout.JAVA_INT_UNALIGNED;
    static final ByteOrder NO = ByteOrder.nativeOrder();

    /** The operand behind {@code v}, which must be host memory (of this or another host backend). */
    static Arg of(View v) {
        if (!(v.storage() instanceof HostStorage hs)) {
            throw new IllegalArgumentException("cpu backend: " + v + " is not host memory (storage of the "
                    + v.storage().backend().name() + " backend)");
        }
        return new Arg(hs.segment(), v.dtype(), v.offset(), v.shape(), v.strides());
    }

    /** A contiguous operand of {@code shape} over raw host memory (copyFromHost/copyToHost). */
    static Arg host(MemorySegment seg, DType dtype, long[] shape) {
        return new Arg(seg, dtype, 0, shape, View.contiguousStrides(shape));
    }

    long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    int rank() {
        return shape.length;
    }

    // ---- element access by storage index (elements, not bytes) -------------------------------

    static double get(MemorySegment s, DType t, long i) {
        return switch (t) {
            case FLOAT32 -> s.get(F, i << 2);
            case FLOAT64 -> s.get(D, i << 3);
            case INT64 -> (double) s.get(L, i << 3);
        };
    }

    static long getLong(MemorySegment s, DType t, long i) {
        return switch (t) {
            case FLOAT32 -> (long) s.get(F, i << 2);
            case FLOAT64 -> (long) s.get(D, i << 3);
            case INT64 -> s.get(L, i << 3);
        };
    }

    static void set(MemorySegment s, DType t, long i, double v) {
        switch (t) {
            case FLOAT32 -> s.set(F, i << 2, (float) v);
            case FLOAT64 -> s.set(D, i << 3, v);
            case INT64 -> s.set(L, i << 3, (long) v);
        }
    }

    static void setLong(MemorySegment s, DType t, long i, long v) {
        switch (t) {
            case FLOAT32 -> s.set(F, i << 2, (float) v);
            case FLOAT64 -> s.set(D, i << 3, (double) v);
            case INT64 -> s.set(L, i << 3, v);
        }
    }

    double get(long i) {
        return get(seg, dtype, i);
    }

    long getLong(long i) {
        return getLong(seg, dtype, i);
    }

    void set(long i, double v) {
        set(seg, dtype, i, v);
    }

    void setLong(long i, long v) {
        setLong(seg, dtype, i, v);
    }
}
