package dev.sinew.cpu;

import dev.sinew.DType;
import dev.sinew.spi.Backend;
import dev.sinew.spi.BackendOptions;
import dev.sinew.spi.BinaryOp;
import dev.sinew.spi.Distribution;
import dev.sinew.spi.FusedOps.Conv2dParams;
import dev.sinew.spi.FusedOps.Pool2dParams;
import dev.sinew.spi.HostAllocator;
import dev.sinew.spi.LeakDetector;
import dev.sinew.spi.ReduceOp;
import dev.sinew.spi.Storage;
import dev.sinew.spi.UnaryOp;
import dev.sinew.spi.View;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;

/**
 * The CPU backend: every primitive op of the SPI, and the fused softmax, cross-entropy, dropout and
 * optimiser ops, as Java Vector API kernels over host memory, multithreaded on a pool of its own.
 * Semantics are the reference backend's ({@code dev.sinew.reference.ReferenceBackend}); the
 * conformance suite checks them op by op.
 *
 * <p>Where the work goes: {@link Elementwise} (unary, binary, where, fill, copy), {@link Reductions},
 * {@link Matmul} ({@link Sgemm}/{@link Dgemm}), {@link Softmax} (softmax, cross-entropy),
 * {@link Randoms} (random fills, dropout) and {@link Optimizers}. Each op fetches its operands'
 * memory once ({@link Arg#of}), which also checks that no storage was closed, then computes.
 *
 * <p>Ownership and lifetime: the caller owns the backend and closes it. Storages come from a
 * {@link HostAllocator} (64-byte aligned, pooled by size class) and are tracked by a
 * {@link LeakDetector}; {@link #close()} stops the worker threads and frees the pool's cached blocks
 * (blocks still live are freed when their storages are released). Operations after close fail with
 * {@link IllegalStateException} when they allocate, and otherwise run on the calling thread.
 *
 * <p>Thread safety: ops may be called from several threads at once on distinct storages; each op
 * runs synchronously (it returns when its result is in memory), splitting large work over
 * {@code options.resolvedThreads()} threads (the caller and {@code threads − 1} workers).
 */
public final class CpuBackend implements Backend {
    /** The provider name. */
    public static final String NAME = "cpu";

    private final int threads;
    private final LeakDetector leaks;
    private final HostAllocator allocator;
    private final Parallel par;
    /** For copies to and from caller memory, which may be confined to the calling thread. */
    private final Parallel callerOnly = new Parallel(1);
    private final Matmul matmul;
    private final Conv conv;

    /** A CPU backend with default options (one thread per processor). */
    public CpuBackend() {
        this(BackendOptions.defaults());
    }

    /** A CPU backend using {@code options.resolvedThreads()} threads. */
    @SuppressWarnings("this-escape") // the allocator only keeps the reference, for Storage.backend()
    public CpuBackend(BackendOptions options) {
        Objects.requireNonNull(options, "options");
        this.threads = options.resolvedThreads();
        this.leaks = new LeakDetector(NAME, options.recordLeakSites(), System.err::println);
        this.allocator = new HostAllocator(this, leaks);
        this.par = new Parallel(threads);
        this.matmul = new Matmul(par);
        this.conv = new Conv(par);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("simd", "jdk.incubator.vector");
        m.put("vector bits", Integer.toString(FloatVector.SPECIES_PREFERRED.vectorBitSize()));
        m.put("float lanes", Integer.toString(FloatVector.SPECIES_PREFERRED.length()));
        m.put("threads", Integer.toString(threads));
        m.put("sgemm", "packed " + Sgemm.MR + "x" + Sgemm.NR + " micro-kernel, blocks KC " + Sgemm.KC + " MC " + Sgemm.MC
                + " NC " + Sgemm.NC);
        return Collections.unmodifiableMap(m);
    }

    @Override
    public Backend primitives() {
        return this;
    }

    /** Threads that work on one large op (the caller included). */
    public int threads() {
        return threads;
    }

    // ---- memory ------------------------------------------------------------------------------

    @Override
    public Storage allocate(DType dtype, long elements) {
        return allocator.allocate(dtype, elements);
    }

    private static void requireHostBytes(String op, MemorySegment host, View v) {
        long need = v.numel() * v.dtype().byteSize();
        if (host.byteSize() < need) {
            throw new IllegalArgumentException(op + ": host segment has " + host.byteSize() + " bytes, " + v
                    + " needs " + need);
        }
    }

    private static void requireShape(String op, String arg, View v, long[] shape) {
        if (!Arrays.equals(v.shape(), shape)) {
            throw new IllegalArgumentException(op + ": " + arg + " has shape " + Arrays.toString(v.shape())
                    + ", expected " + Arrays.toString(shape));
        }
    }

    @Override
    public void copyFromHost(MemorySegment src, View dst) {
        requireHostBytes("copyFromHost", src, dst);
        Arg d = Arg.of(dst);
        Elementwise.copy(callerOnly, Arg.host(src, dst.dtype(), dst.shape()), d);
    }

    @Override
    public void copyToHost(View src, MemorySegment dst) {
        requireHostBytes("copyToHost", dst, src);
        Arg s = Arg.of(src);
        Elementwise.copy(callerOnly, s, Arg.host(dst, src.dtype(), src.shape()));
    }

    @Override
    public void copy(View src, View dst) {
        requireShape("copy", "src", src, dst.shape());
        Elementwise.copy(par, Arg.of(src), Arg.of(dst));
    }

    @Override
    public void fill(View dst, double value) {
        Elementwise.fill(par, Arg.of(dst), value);
    }

    @Override
    public void random(View dst, Distribution dist, double a, double b, long seed, long offset) {
        Randoms.fill(par, Arg.of(dst), dist, a, b, seed, offset);
    }

    // ---- compute -----------------------------------------------------------------------------

    @Override
    public void unary(UnaryOp op, View x, View out) {
        requireShape("unary " + op, "x", x, out.shape());
        Elementwise.unary(par, op, Arg.of(x), Arg.of(out));
    }

    @Override
    public void binary(BinaryOp op, View a, View b, View out) {
        requireShape("binary " + op, "a", a, out.shape());
        requireShape("binary " + op, "b", b, out.shape());
        Elementwise.binary(par, op, Arg.of(a), Arg.of(b), Arg.of(out));
    }

    @Override
    public void reduce(ReduceOp op, View x, View out) {
        Reductions.reduce(par, op, Arg.of(x), Arg.of(out));
    }

    @Override
    public void where(View cond, View a, View b, View out) {
        requireShape("where", "cond", cond, out.shape());
        requireShape("where", "a", a, out.shape());
        requireShape("where", "b", b, out.shape());
        Elementwise.where(par, Arg.of(cond), Arg.of(a), Arg.of(b), Arg.of(out));
    }

    @Override
    public void matmul(View a, View b, View out) {
        matmul.matmul(Arg.of(a), Arg.of(b), Arg.of(out));
    }

    // ---- fused -------------------------------------------------------------------------------

    @Override
    public void softmax(View x, View out, boolean log) {
        requireShape(log ? "logSoftmax" : "softmax", "out", out, x.shape());
        Softmax.softmax(par, Arg.of(x), Arg.of(out), log);
    }

    @Override
    public void softmaxBackward(View y, View dy, View dx, boolean log) {
        String op = log ? "logSoftmaxBackward" : "softmaxBackward";
        requireShape(op, "dy", dy, y.shape());
        requireShape(op, "dx", dx, y.shape());
        Softmax.softmaxBackward(par, Arg.of(y), Arg.of(dy), Arg.of(dx), log);
    }

    @Override
    public void softmaxCrossEntropy(View logits, View labels, View loss, View probs, long ignoreIndex,
            double labelSmoothing) {
        Softmax.crossEntropy(par, Arg.of(logits), Arg.of(labels), Arg.of(loss), Arg.of(probs), ignoreIndex,
                labelSmoothing);
    }

    @Override
    public void softmaxCrossEntropyBackward(View probs, View labels, View dLoss, View dLogits, long ignoreIndex,
            double labelSmoothing) {
        Softmax.crossEntropyBackward(par, Arg.of(probs), Arg.of(labels), Arg.of(dLoss), Arg.of(dLogits), ignoreIndex,
                labelSmoothing);
    }

    @Override
    public void dropout(View x, View out, View mask, double p, long seed, long offset) {
        requireShape("dropout", "out", out, x.shape());
        requireShape("dropout", "mask", mask, x.shape());
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("dropout: p must be in [0, 1], got " + p);
        }
        Randoms.dropout(par, Arg.of(x), Arg.of(out), Arg.of(mask), p, seed, offset);
    }

    private static List<Arg> args(List<View> views) {
        List<Arg> l = new ArrayList<>(views.size());
        for (View v : views) {
            l.add(Arg.of(v));
        }
        return l;
    }

    @Override
    public void sgdStep(List<View> params, List<View> grads, List<View> momentum, SgdConfig cfg) {
        Optimizers.sgd(par, args(params), args(grads), args(momentum), cfg);
    }

    @Override
    public void adamStep(List<View> params, List<View> grads, List<View> m, List<View> v, AdamConfig cfg) {
        Optimizers.adam(par, args(params), args(grads), args(m), args(v), cfg);
    }

    @Override
    public void rmspropStep(List<View> params, List<View> grads, List<View> squareAvg, List<View> momentumBuf,
            List<View> gradAvg, RmsPropConfig cfg) {
        Optimizers.rmsprop(par, args(params), args(grads), args(squareAvg), args(momentumBuf), args(gradAvg), cfg);
    }

    // ---- convolution and pooling --------------------------------------------------------------
    // FLOAT32 on contiguous operands goes to Conv/Pool; FLOAT64, strided views and average pooling
    // with dilation (an error) take the composed default.

    @Override
    public void conv2d(View x, View w, View bias, View out, Conv2dParams p) {
        if (Conv.fast(x, w, bias, out)) {
            conv.conv2d(x, w, bias, out, p);
        } else {
            Backend.super.conv2d(x, w, bias, out, p);
        }
    }

    @Override
    public void conv2dBackwardData(View dy, View w, View dx, Conv2dParams p) {
        if (Conv.fast(dy, w, dx)) {
            conv.conv2dBackwardData(dy, w, dx, p);
        } else {
            Backend.super.conv2dBackwardData(dy, w, dx, p);
        }
    }

    @Override
    public void conv2dBackwardFilter(View x, View dy, View dw, View dBias, Conv2dParams p) {
        if (Conv.fast(x, dy, dw, dBias)) {
            conv.conv2dBackwardFilter(x, dy, dw, dBias, p);
        } else {
            Backend.super.conv2dBackwardFilter(x, dy, dw, dBias, p);
        }
    }

    @Override
    public void maxPool2d(View x, View out, Pool2dParams p) {
        if (Conv.fast(x, out)) {
            Pool.maxPool2d(par, x, out, p);
        } else {
            Backend.super.maxPool2d(x, out, p);
        }
    }

    @Override
    public void maxPool2dBackward(View x, View y, View dy, View dx, Pool2dParams p) {
        if (Conv.fast(x, y, dy, dx)) {
            Pool.maxPool2dBackward(par, x, y, dy, dx, p);
        } else {
            Backend.super.maxPool2dBackward(x, y, dy, dx, p);
        }
    }

    @Override
    public void avgPool2d(View x, View out, Pool2dParams p) {
        if (Conv.fast(x, out) && p.dilationH() == 1 && p.dilationW() == 1) {
            Pool.avgPool2d(par, x, out, p);
        } else {
            Backend.super.avgPool2d(x, out, p);
        }
    }

    @Override
    public void avgPool2dBackward(View dy, View dx, Pool2dParams p) {
        if (Conv.fast(dy, dx) && p.dilationH() == 1 && p.dilationW() == 1) {
            Pool.avgPool2dBackward(par, dy, dx, p);
        } else {
            Backend.super.avgPool2dBackward(dy, dx, p);
        }
    }

    // ---- bookkeeping -------------------------------------------------------------------------

    @Override
    public long liveBuffers() {
        return leaks.liveBuffers();
    }

    @Override
    public long leakedBuffers() {
        return leaks.leakedBuffers();
    }

    /** The leak reports so far (for tests). */
    public List<String> leakReports() {
        return leaks.reports();
    }

    @Override
    public long liveBytes() {
        return allocator.liveBytes();
    }

    @Override
    public long peakBytes() {
        return allocator.peakBytes();
    }

    /** Stops the worker threads and frees cached memory; idempotent. */
    @Override
    public void close() {
        par.close();
        matmul.clear();
        conv.clear();
        allocator.close();
    }

    @Override
    public String toString() {
        return "CpuBackend[" + threads + " threads, " + FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit vectors]";
    }
}
