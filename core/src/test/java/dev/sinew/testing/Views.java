package dev.sinew.testing;

import dev.sinew.DType;
import dev.sinew.spi.Backend;
import dev.sinew.spi.Storage;
import dev.sinew.spi.View;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Moving test data between Java arrays and backend views through the SPI's own
 * {@code copyFromHost}/{@code copyToHost}, so the helpers work for any backend.
 *
 * <p>Ownership: every method that returns a {@link View} allocated a new storage for it, which the
 * caller owns and must release ({@link #release}). Readers own nothing. Host memory is a confined
 * arena per call, closed after {@link Backend#synchronize()}. Stateless.
 */
public final class Views {
    private Views() {
    }

    /** A new contiguous view of {@code shape} holding {@code data} (row-major, converted to {@code dtype}). */
    public static View fromDoubles(Backend backend, DType dtype, double[] data, long... shape) {
        long n = numel(shape);
        if (n != data.length) {
            throw new IllegalArgumentException("fromDoubles: " + data.length + " values for shape " + Arrays.toString(shape));
        }
        Storage s = backend.allocate(dtype, n);
        View v = View.contiguous(s, shape.clone());
        write(v, data);
        return v;
    }

    /** A new contiguous INT64 view of {@code shape} holding exactly {@code data}. */
    public static View fromLongs(Backend backend, long[] data, long... shape) {
        long n = numel(shape);
        if (n != data.length) {
            throw new IllegalArgumentException("fromLongs: " + data.length + " values for shape " + Arrays.toString(shape));
        }
        Storage s = backend.allocate(DType.INT64, n);
        View v = View.contiguous(s, shape.clone());
        writeLongs(v, data);
        return v;
    }

    /**
     * A new storage of {@code geometry.elements()} holding {@code storageData} (storage order), seen
     * as a view of {@code shape} with the geometry's offset and strides.
     */
    public static View withGeometry(Backend backend, DType dtype, Layout.Geometry geometry, double[] storageData,
            long... shape) {
        if (storageData.length != geometry.elements()) {
            throw new IllegalArgumentException("withGeometry: " + storageData.length + " values for " + geometry);
        }
        Storage s = backend.allocate(dtype, geometry.elements());
        View whole = View.contiguous(s, geometry.elements());
        write(whole, storageData);
        return new View(s, geometry.offset(), shape.clone(), geometry.strides().clone());
    }

    /** Writes {@code data} (row-major, converted to the view's dtype) into an existing view. */
    public static void write(View dst, double[] data) {
        checkCount("write", dst, data.length);
        Backend b = dst.storage().backend();
        DType t = dst.dtype();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(Math.max(1, (long) data.length * t.byteSize()), 8);
            for (int i = 0; i < data.length; i++) {
                switch (t) {
                    case FLOAT32 -> host.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) data[i]);
                    case FLOAT64 -> host.setAtIndex(ValueLayout.JAVA_DOUBLE, i, data[i]);
                    case INT64 -> host.setAtIndex(ValueLayout.JAVA_LONG, i, (long) data[i]);
                }
            }
            b.copyFromHost(host, dst);
            b.synchronize();
        }
    }

    /** Writes exact longs into an existing INT64 view (row-major). */
    public static void writeLongs(View dst, long[] data) {
        checkCount("writeLongs", dst, data.length);
        if (dst.dtype() != DType.INT64) {
            throw new IllegalArgumentException("writeLongs: view is " + dst.dtype() + ", not INT64");
        }
        Backend b = dst.storage().backend();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(Math.max(1, (long) data.length * 8), 8);
            for (int i = 0; i < data.length; i++) {
                host.setAtIndex(ValueLayout.JAVA_LONG, i, data[i]);
            }
            b.copyFromHost(host, dst);
            b.synchronize();
        }
    }

    /** The view's values in row-major order, as doubles (INT64 values are converted). */
    public static double[] toDoubles(View v) {
        int n = Math.toIntExact(v.numel());
        DType t = v.dtype();
        double[] out = new double[n];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = read(arena, v);
            for (int i = 0; i < n; i++) {
                out[i] = switch (t) {
                    case FLOAT32 -> host.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                    case FLOAT64 -> host.getAtIndex(ValueLayout.JAVA_DOUBLE, i);
                    case INT64 -> (double) host.getAtIndex(ValueLayout.JAVA_LONG, i);
                };
            }
        }
        return out;
    }

    /** The values of an INT64 view in row-major order, exactly. */
    public static long[] toLongs(View v) {
        if (v.dtype() != DType.INT64) {
            throw new IllegalArgumentException("toLongs: view is " + v.dtype() + ", not INT64");
        }
        int n = Math.toIntExact(v.numel());
        long[] out = new long[n];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = read(arena, v);
            for (int i = 0; i < n; i++) {
                out[i] = host.getAtIndex(ValueLayout.JAVA_LONG, i);
            }
        }
        return out;
    }

    /** A contiguous 1-D view over all of {@code v}'s storage (to compare whole storages, gaps included). */
    public static View wholeStorage(View v) {
        Storage s = v.storage();
        return View.contiguous(s, s.elements());
    }

    /** Releases each view's storage once (each view must own one reference, as the factories here give). */
    public static void release(View... views) {
        for (View v : views) {
            if (v != null) {
                v.storage().release();
            }
        }
    }

    /** Number of elements of a shape ({@code 1} for rank 0). */
    public static long numel(long... shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    private static MemorySegment read(Arena arena, View v) {
        Backend b = v.storage().backend();
        MemorySegment host = arena.allocate(Math.max(1, v.numel() * v.dtype().byteSize()), 8);
        b.copyToHost(v, host);
        b.synchronize(); // a device backend may have queued the copy
        return host;
    }

    private static void checkCount(String op, View v, int n) {
        if (v.numel() != n) {
            throw new IllegalArgumentException(op + ": " + n + " values for " + v);
        }
    }
}
