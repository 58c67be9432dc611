package dev.sinew.spi;

import dev.sinew.DType;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend buffer of {@code elements} values of one {@link DType}.
 *
 * <p>Ownership: a storage is reference counted. It is born with one reference, held by the tensor
 * that allocated it; every view tensor sharing it {@link #retain()}s, and every owner
 * {@link #release()}s exactly once. The last release returns the memory to the backend's pool.
 * Any access after that throws {@link IllegalStateException} (never a JVM crash), which backends
 * get for free by calling {@link #checkLive()} (host backends do it in {@code segment()}).
 * A storage that becomes unreachable while still referenced is reported by the backend's
 * {@link LeakDetector}. Thread safety: reference counting is atomic; contents are not guarded.
 */
public abstract class Storage {
    private final DType dtype;
    private final long elements;
    private final AtomicInteger refs = new AtomicInteger(1);
    private final LeakDetector.Tracker tracker;

    /**
     * @param leaks   the owning backend's detector; this storage is tracked from construction on
     * @param reclaim returns the memory if this storage is collected unclosed; it must not refer to
     *                the storage itself (or it would never be collected)
     */
    @SuppressWarnings("this-escape") // the Cleaner only keeps a phantom reference to this object
    protected Storage(DType dtype, long elements, LeakDetector leaks, Runnable reclaim) {
        this.dtype = dtype;
        this.elements = elements;
        this.tracker = leaks.track(this, elements + " x " + dtype, reclaim);
    }

    public final DType dtype() {
        return dtype;
    }

    /** Capacity in elements. */
    public final long elements() {
        return elements;
    }

    /** The backend that made this storage. */
    public abstract Backend backend();

    /** Adds an owner. */
    public final void retain() {
        int before = refs.getAndIncrement();
        if (before <= 0) {
            refs.decrementAndGet();
            throw new IllegalStateException("storage of " + elements + " " + dtype + " used after close");
        }
    }

    /** Drops an owner; the last one frees the memory. Releasing a freed storage is an error. */
    public final void release() {
        int after = refs.decrementAndGet();
        if (after == 0) {
            tracker.closed();
            free();
        } else if (after < 0) {
            refs.incrementAndGet();
            throw new IllegalStateException("storage of " + elements + " " + dtype + " closed twice");
        }
    }

    public final boolean isLive() {
        return refs.get() > 0;
    }

    /** Throws {@link IllegalStateException} if this storage has been freed. */
    public final void checkLive() {
        if (refs.get() <= 0) {
            throw new IllegalStateException(
                    "tensor storage (" + elements + " x " + dtype + ") used after it was closed");
        }
    }

    /** Returns the memory to the backend; called once, by the last {@link #release()}. */
    protected abstract void free();
}
