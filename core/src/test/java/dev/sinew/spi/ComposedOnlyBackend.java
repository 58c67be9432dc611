package dev.sinew.spi;

import dev.sinew.DType;
import dev.sinew.reference.ReferenceBackend;
import java.lang.foreign.MemorySegment;
import java.util.Map;

/**
 * A test backend whose primitives are the reference backend's but whose fused ops are all the
 * composed defaults of {@link FusedOps} (it overrides none), so the suites that run whole models or
 * PyTorch golden files through it test {@link ComposedConv} and {@link Composed} end to end.
 *
 * <p>Ownership: it owns the reference backend it wraps and closes it. Thread safety as the reference.
 */
final class ComposedOnlyBackend implements Backend {
    private final ReferenceBackend inner = new ReferenceBackend(new BackendOptions(1, true));

    @Override
    public String name() {
        return "composed-reference";
    }

    @Override
    public Map<String, String> describe() {
        return Map.of("kind", "reference primitives, composed fused ops");
    }

    @Override
    public Backend primitives() {
        return this;
    }

    @Override
    public Storage allocate(DType dtype, long elements) {
        return inner.allocate(dtype, elements);
    }

    @Override
    public void copyFromHost(MemorySegment src, View dst) {
        inner.copyFromHost(src, dst);
    }

    @Override
    public void copyToHost(View src, MemorySegment dst) {
        inner.copyToHost(src, dst);
    }

    @Override
    public void copy(View src, View dst) {
        inner.copy(src, dst);
    }

    @Override
    public void fill(View dst, double value) {
        inner.fill(dst, value);
    }

    @Override
    public void random(View dst, Distribution dist, double a, double b, long seed, long offset) {
        inner.random(dst, dist, a, b, seed, offset);
    }

    @Override
    public void unary(UnaryOp op, View x, View out) {
        inner.unary(op, x, out);
    }

    @Override
    public void binary(BinaryOp op, View a, View b, View out) {
        inner.binary(op, a, b, out);
    }

    @Override
    public void reduce(ReduceOp op, View x, View out) {
        inner.reduce(op, x, out);
    }

    @Override
    public void where(View cond, View a, View b, View out) {
        inner.where(cond, a, b, out);
    }

    @Override
    public void matmul(View a, View b, View out) {
        inner.matmul(a, b, out);
    }

    @Override
    public long liveBuffers() {
        return inner.liveBuffers();
    }

    @Override
    public long leakedBuffers() {
        return inner.leakedBuffers();
    }

    @Override
    public long liveBytes() {
        return inner.liveBytes();
    }

    @Override
    public long peakBytes() {
        return inner.peakBytes();
    }

    @Override
    public void close() {
        inner.close();
    }
}
