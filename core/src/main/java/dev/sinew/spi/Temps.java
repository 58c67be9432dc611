package dev.sinew.spi;

import dev.sinew.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The temporaries of one composed op ({@link Composed}, {@link ComposedConv}, {@link ComposedRnn}):
 * contiguous storages from the backend, all released by {@link #close()}, also when an op fails
 * half-way. Single-threaded; lives for one op.
 */
final class Temps implements AutoCloseable {
    private final Backend b;
    private final List<Storage> owned = new ArrayList<>();

    Temps(Backend b) {
        this.b = b;
    }

    /** A new contiguous temporary of {@code shape}; contents unspecified. */
    View tensor(DType dt, long... shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        Storage s = b.allocate(dt, n);
        owned.add(s);
        return View.contiguous(s, shape.clone());
    }

    /** One element holding {@code value}, seen with stride 0 as {@code shape}. */
    View scalar(DType dt, double value, long... shape) {
        View one = tensor(dt, 1);
        b.fill(one, value);
        return one.with(0, shape.clone(), new long[shape.length]);
    }

    /** A contiguous 1-D temporary holding {@code values} converted to {@code dt}. */
    View values(DType dt, long[] values) {
        return copied(dt, values.length, (host, i) -> put(host, dt, i, values[i], values[i]));
    }

    /** A contiguous 1-D temporary holding {@code values} converted to {@code dt}. */
    View values(DType dt, double[] values) {
        return copied(dt, values.length, (host, i) -> put(host, dt, i, values[i], (long) values[i]));
    }

    private interface Filler {
        void fill(MemorySegment host, int i);
    }

    private static void put(MemorySegment host, DType dt, int i, double d, long l) {
        switch (dt) {
            case FLOAT32 -> host.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) d);
            case FLOAT64 -> host.setAtIndex(ValueLayout.JAVA_DOUBLE, i, d);
            case INT64 -> host.setAtIndex(ValueLayout.JAVA_LONG, i, l);
        }
    }

    private View copied(DType dt, int n, Filler filler) {
        View v = tensor(dt, n);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate((long) n * dt.byteSize(), 8);
            for (int i = 0; i < n; i++) {
                filler.fill(host, i);
            }
            b.copyFromHost(host, v);
            b.synchronize(); // the host memory goes away with the arena
        }
        return v;
    }

    @Override
    public void close() {
        RuntimeException failure = null;
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).release();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        owned.clear();
        if (failure != null) {
            throw failure;
        }
    }
}
