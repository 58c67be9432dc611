package dev.sinew.spi;

import dev.sinew.DType;
import java.lang.foreign.MemorySegment;

/**
 * Host memory storage shared by the reference and CPU backends: a 64-byte-aligned off-heap
 * {@link MemorySegment} from a {@link HostAllocator}.
 *
 * <p>{@link #segment()} checks liveness on every call, so a kernel handed a closed tensor fails
 * with {@link IllegalStateException} before it touches memory that may already belong to another
 * tensor. Kernels must fetch the segment once per op, not cache it across ops.
 */
public final class HostStorage extends Storage {
    private final HostAllocator allocator;
    private final MemorySegment segment;
    private final Object block;
    private final long sizeClass;

    HostStorage(HostAllocator allocator, DType dtype, long elements, MemorySegment segment, Object block,
            long sizeClass) {
        super(dtype, elements, allocator.leaks(), () -> allocator.recycle(block, sizeClass));
        this.allocator = allocator;
        this.segment = segment;
        this.block = block;
        this.sizeClass = sizeClass;
    }

    /** The memory, after checking that this storage is still open. */
    public MemorySegment segment() {
        checkLive();
        return segment;
    }

    @Override
    public Backend backend() {
        return allocator.backend();
    }

    @Override
    protected void free() {
        allocator.recycle(block, sizeClass);
    }
}
