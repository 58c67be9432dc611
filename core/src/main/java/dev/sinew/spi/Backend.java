package dev.sinew.spi;

import dev.sinew.DType;
import java.lang.foreign.MemorySegment;
import java.util.Map;

/**
 * A compute backend: the primitive tier of the SPI (about twenty ops every backend implements)
 * plus the fused tier inherited from {@link FusedOps}, whose defaults compose the primitives.
 *
 * <p>Contract for every op: operands are {@link View}s of storages this backend allocated; shapes
 * have already been checked and broadcast by core (a broadcast operand has stride 0), so a backend
 * never validates user input, only computes. Outputs never alias inputs, except that {@link #unary},
 * {@link #binary} and {@link #copy} must accept an output that is exactly the same view as an input
 * (in-place update, e.g. gradient accumulation {@code grad = grad + g}).
 * Backends compute and never record gradients. Ops run synchronously with respect to the caller
 * for host backends; a device backend may queue them on its stream but must order them.
 *
 * <p>Ownership: the caller owns a backend and closes it; closing frees its pool. Every storage it
 * allocated must be released first ({@link #liveBuffers()} says how many are not).
 * Thread safety: a backend may be used from several threads, but not on the same storages at once.
 */
public interface Backend extends FusedOps, AutoCloseable {

    /** The provider's name, e.g. {@code "cpu"}. */
    String name();

    /** Human-readable facts for {@code sinew info}: vector width, threads, device, versions. */
    Map<String, String> describe();

    // ---- memory ------------------------------------------------------------------------------

    /** A new storage with one reference; contents unspecified. */
    Storage allocate(DType dtype, long elements);

    /**
     * Copies {@code dst.numel()} values from host memory, laid out row-major in dst's dtype. The host
     * segment may be confined to the calling thread (a heap array, an {@code Arena.ofConfined()}), so
     * a backend must touch it only on the caller's thread. The same holds for {@link #copyToHost}.
     */
    void copyFromHost(MemorySegment src, View dst);

    /** Copies the view's values to host memory, row-major, in the view's dtype. */
    void copyToHost(View src, MemorySegment dst);

    /** Strided copy with conversion: {@code dst[i] = (dst dtype) src[i]}; shapes are equal. */
    void copy(View src, View dst);

    /** Sets every element of the view. */
    void fill(View dst, double value);

    /**
     * Fills {@code dst} with samples: element with row-major index {@code i} gets
     * {@link Philox#sample}{@code (dist, a, b, seed, offset + i)}, so results match across backends:
     * exactly for UNIFORM on [0, 1) and BERNOULLI, to a few ulps for NORMAL and UNIFORM(a, b) (another
     * math library's log/cos, or fma contraction, may differ in the last bit).
     */
    void random(View dst, Distribution dist, double a, double b, long seed, long offset);

    // ---- compute -----------------------------------------------------------------------------

    /** {@code out = op(x)}; same shapes. */
    void unary(UnaryOp op, View x, View out);

    /**
     * {@code out = a op b}; all three have out's shape (broadcast operands have stride 0). On INT64,
     * ADD/SUB/MUL/MAX/MIN and comparisons are exact 64-bit arithmetic; DIV and POW go through double
     * and truncate toward zero.
     */
    void binary(BinaryOp op, View a, View b, View out);

    /**
     * Reduces {@code x} into {@code out}, which has x's rank and size 1 along each reduced axis
     * (every axis where {@code out.shape[i] == 1 && x.shape[i] > 1}).
     */
    void reduce(ReduceOp op, View x, View out);

    /** {@code out = cond != 0 ? a : b}; all have out's shape; cond may have any dtype (NaN counts as true). */
    void where(View cond, View a, View b, View out);

    /**
     * Batched matrix product {@code out[p] = a[p] · b[p]} with a {@code [P, M, K]}, b {@code [P, K, N]},
     * out {@code [P, M, N]}. Operands may have any strides: a transposed matrix is a view with
     * strides {@code [·, 1, M]}, and a batch stride of 0 reuses one matrix for every batch entry.
     */
    void matmul(View a, View b, View out);

    // ---- bookkeeping -------------------------------------------------------------------------

    /** Storages allocated and not yet released. */
    long liveBuffers();

    /** Storages collected without being released (each also logged as a leak report). */
    long leakedBuffers();

    /** Bytes of live storage now, and the most at once so far (for benchmarks). */
    long liveBytes();

    long peakBytes();

    /** Blocks until queued work is done (a no-op on synchronous backends). */
    default void synchronize() {
    }

    @Override
    void close();
}
