package dev.sinew.spi;

import dev.sinew.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The caching allocator of host (CPU-memory) backends: 64-byte-aligned off-heap blocks in size
 * classes, kept in free lists after use so that a training step allocates nothing new once warm.
 *
 * <p>Each block comes from its own shared {@link Arena}, closed only when the cache is trimmed or
 * the allocator is closed (not per tensor: blocks are reused). Sizes round up to a power of two
 * below 1 MiB and to a multiple of 64 KiB above. When an allocation fails for lack of memory the
 * allocator drops its cache and retries once. Owned by one backend and closed with it; thread-safe
 * (one lock; allocation is rare on the hot path once the pool is warm).
 */
public final class HostAllocator implements AutoCloseable {
    private static final long ALIGN = 64;
    private static final long BIG = 1L << 20;
    private static final long BIG_STEP = 64L << 10;

    private record Block(Arena arena, MemorySegment segment) {
    }

    private final Backend backend;
    private final LeakDetector leaks;
    private final Map<Long, ArrayDeque<Block>> free = new HashMap<>();
    private long cachedBytes;
    private long liveBytes;
    private long peakBytes;
    private boolean closed;

    public HostAllocator(Backend backend, LeakDetector leaks) {
        this.backend = backend;
        this.leaks = leaks;
    }

    static long sizeClass(long bytes) {
        long b = Math.max(bytes, ALIGN);
        if (b <= BIG) {
            return Long.highestOneBit(b - 1) << 1;
        }
        return (b + BIG_STEP - 1) / BIG_STEP * BIG_STEP;
    }

    /** A storage of {@code elements} values; contents are unspecified (not zeroed). */
    public HostStorage allocate(DType dtype, long elements) {
        if (elements <= 0) {
            throw new IllegalArgumentException("allocate: element count must be positive, got " + elements);
        }
        long bytes = Math.multiplyExact(elements, (long) dtype.byteSize());
        long cls = sizeClass(bytes);
        Block block;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException(backend.name() + " backend is closed");
            }
            ArrayDeque<Block> list = free.get(cls);
            block = list == null ? null : list.poll();
            if (block != null) {
                cachedBytes -= cls;
            }
            liveBytes += cls;
            peakBytes = Math.max(peakBytes, liveBytes);
        }
        if (block == null) {
            block = newBlock(cls);
        }
        return new HostStorage(this, dtype, elements, block.segment().asSlice(0, bytes), block, cls);
    }

    LeakDetector leaks() {
        return leaks;
    }

    private Block newBlock(long cls) {
        try {
            Arena a = Arena.ofShared();
            return new Block(a, a.allocate(cls, ALIGN));
        } catch (OutOfMemoryError e) {
            trim();
            Arena a = Arena.ofShared();
            return new Block(a, a.allocate(cls, ALIGN));
        }
    }

    /** Returns a block to the cache; called by {@link HostStorage#free()} or by the leak detector. */
    void recycle(Object block, long cls) {
        synchronized (this) {
            liveBytes -= cls;
            if (!closed) {
                free.computeIfAbsent(cls, k -> new ArrayDeque<>()).push((Block) block);
                cachedBytes += cls;
                return;
            }
        }
        ((Block) block).arena().close();
    }

    /** Frees every cached (unused) block back to the operating system. */
    public void trim() {
        ArrayDeque<Block> all = new ArrayDeque<>();
        synchronized (this) {
            for (ArrayDeque<Block> l : free.values()) {
                all.addAll(l);
            }
            free.clear();
            cachedBytes = 0;
        }
        for (Block b : all) {
            b.arena().close();
        }
    }

    /** Bytes held by live storages (rounded to size classes). */
    public synchronized long liveBytes() {
        return liveBytes;
    }

    /** The most bytes live at once since this allocator was made. */
    public synchronized long peakBytes() {
        return peakBytes;
    }

    /** Bytes held in the cache, ready for reuse. */
    public synchronized long cachedBytes() {
        return cachedBytes;
    }

    Backend backend() {
        return backend;
    }

    /** Drops the cache; blocks still live are freed when their storages are released. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        trim();
    }
}
