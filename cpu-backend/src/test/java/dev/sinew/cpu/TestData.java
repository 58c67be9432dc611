package dev.sinew.cpu;

import static org.junit.jupiter.api.Assertions.fail;

import dev.sinew.DType;
import dev.sinew.spi.Backend;
import dev.sinew.spi.Storage;
import dev.sinew.spi.View;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/** Small helpers for this module's tests: views from arrays and back, random data, element comparison. */
final class TestData {
    private TestData() {
    }

    /** A new storage of {@code elements} values holding {@code storage} (converted to dt), seen as {@code shape/strides}. */
    static View place(Backend b, DType dt, double[] storage, long offset, long[] shape, long[] strides) {
        Storage s = b.allocate(dt, storage.length);
        View whole = View.contiguous(s, storage.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate((long) storage.length * dt.byteSize(), 8);
            for (int i = 0; i < storage.length; i++) {
                switch (dt) {
                    case FLOAT32 -> host.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) storage[i]);
                    case FLOAT64 -> host.setAtIndex(ValueLayout.JAVA_DOUBLE, i, storage[i]);
                    case INT64 -> host.setAtIndex(ValueLayout.JAVA_LONG, i, (long) storage[i]);
                }
            }
            b.copyFromHost(host, whole);
        }
        return new View(s, offset, shape, strides);
    }

    /** A contiguous view holding {@code data}. */
    static View of(Backend b, DType dt, double[] data, long... shape) {
        return place(b, dt, data, 0, shape, View.contiguousStrides(shape));
    }

    /** The view's values, row-major, as doubles. */
    static double[] read(Backend b, View v) {
        int n = Math.toIntExact(v.numel());
        double[] out = new double[n];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(Math.max(8, (long) n * v.dtype().byteSize()), 8);
            b.copyToHost(v, host);
            for (int i = 0; i < n; i++) {
                out[i] = switch (v.dtype()) {
                    case FLOAT32 -> host.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                    case FLOAT64 -> host.getAtIndex(ValueLayout.JAVA_DOUBLE, i);
                    case INT64 -> host.getAtIndex(ValueLayout.JAVA_LONG, i);
                };
            }
        }
        return out;
    }

    /** The whole storage behind a view (gaps included), as doubles. */
    static double[] readStorage(Backend b, View v) {
        return read(b, View.contiguous(v.storage(), v.storage().elements()));
    }

    static void release(View... views) {
        for (View v : views) {
            v.storage().release();
        }
    }

    static long numel(long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    static double[] uniform(SplittableRandom rnd, int n, double lo, double hi) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = rnd.nextDouble(lo, hi);
        }
        return d;
    }

    /** Asserts {@code |act − exp| <= atol + rtol·|exp|} elementwise (NaN only with NaN), listing the first misses. */
    static void assertClose(String what, double[] exp, double[] act, double atol, double rtol) {
        if (exp.length != act.length) {
            fail(what + ": expected " + exp.length + " values, got " + act.length);
        }
        int bad = 0;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < exp.length; i++) {
            boolean ok = Double.isNaN(exp[i]) ? Double.isNaN(act[i])
                    : exp[i] == act[i] || Math.abs(act[i] - exp[i]) <= atol + rtol * Math.abs(exp[i]);
            if (!ok) {
                if (bad++ < 6) {
                    sb.append(String.format("%n  [%d] expected %.9g, actual %.9g", i, exp[i], act[i]));
                }
            }
        }
        if (bad > 0) {
            fail(what + ": " + bad + " of " + exp.length + " differ" + sb);
        }
    }
}
