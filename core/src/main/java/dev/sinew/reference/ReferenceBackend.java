package dev.sinew.reference;

import dev.sinew.DType;
import dev.sinew.spi.Backend;
import dev.sinew.spi.BackendOptions;
import dev.sinew.spi.BinaryOp;
import dev.sinew.spi.Distribution;
import dev.sinew.spi.FusedOps.Conv2dParams;
import dev.sinew.spi.FusedOps.Pool2dParams;
import dev.sinew.spi.FusedOps.RnnParams;
import dev.sinew.spi.HostAllocator;
import dev.sinew.spi.HostStorage;
import dev.sinew.spi.LeakDetector;
import dev.sinew.spi.Philox;
import dev.sinew.spi.ReduceOp;
import dev.sinew.spi.Storage;
import dev.sinew.spi.UnaryOp;
import dev.sinew.spi.View;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The reference backend: every primitive op as a plain Java loop over strided views, with double
 * accumulation. It is the living definition of Sinew's semantics; the conformance suite compares
 * every other backend against it. Of the fused ops it overrides only convolution and pooling, with the
 * plain loops of {@link ReferenceConv}, and the recurrent layers, with those of {@link ReferenceRnn}
 * (the definitions of those ops; the composed defaults in {@code dev.sinew.spi.ComposedConv} and
 * {@code ComposedRnn} are tested against them); for every other fused op the composed defaults in
 * {@code dev.sinew.spi.Composed} are the definition.
 *
 * <p>Semantics fixed here (other backends must agree within the suite's tolerances):
 * <ul>
 *   <li>Floating-point ops are evaluated in double and rounded once, when stored; a FLOAT32 store
 *       keeps the nearest float. Sums and dot products accumulate in double, in row-major order.</li>
 *   <li>A store into INT64 converts with Java's {@code (long)} cast: truncation toward zero, NaN to
 *       0, saturation at the ends of the range. A store of an INT64 value into a float rounds to
 *       nearest.</li>
 *   <li>INT64 operands are exact 64-bit integer arithmetic (wrapping on overflow) for NEG, ABS,
 *       SIGN, SQUARE, RELU; ADD, SUB, MUL, MAX, MIN and the comparisons; SUM, MAX, MIN, ARGMAX;
 *       copy, where and matmul. Other ops on INT64 (DIV, POW, EXP, ...) go through double and
 *       are stored with the cast above, so INT64 DIV truncates toward zero.</li>
 *   <li>Unary: NEG {@code -x}, ABS, SIGN ({@link Math#signum}: ±0 and NaN are kept), EXP, LOG,
 *       SQRT, RSQRT {@code 1/sqrt(x)}, RECIPROCAL {@code 1/x}, SQUARE {@code x·x}, TANH, SIGMOID
 *       {@code 1/(1+e^-x)} (evaluated stably on both sides of 0), RELU {@code x > 0 ? x : 0} with
 *       NaN kept, SIN, COS.</li>
 *   <li>Binary MAX/MIN and reduce MAX/MIN propagate NaN. Comparisons write 1 or 0 in the output's
 *       dtype (NaN compares unequal to everything, so NE is 1 and the others 0).</li>
 *   <li>Reduce: {@code out} has x's rank with size 1 on each reduced axis. ARGMAX writes the index
 *       of the first maximum along its single reduced axis; a NaN counts as larger than any
 *       number (as {@code torch.argmax}).</li>
 *   <li>where: {@code cond} may have any dtype; nonzero (NaN included) selects {@code a}.</li>
 *   <li>random: element with row-major index {@code i} of the view gets
 *       {@link Philox#sample}{@code (dist, a, b, seed, offset + i)}.</li>
 * </ul>
 *
 * <p>Operands may be views of any {@link HostStorage} (so a host backend may fall back on these
 * loops for its own storages). Shapes are checked against each other, since a reference that
 * silently accepted a caller's bug would define it as correct.
 *
 * <p>Ownership: the caller owns the backend and closes it; {@link #close()} closes its
 * {@link HostAllocator} (cached blocks are freed; live ones when their storages are released).
 * Storages are owned as {@link Storage} says. Thread safety: the backend holds no state besides
 * its allocator and leak detector, both thread-safe; ops may run concurrently on distinct storages.
 */
public final class ReferenceBackend implements Backend {
    /** The provider name. */
    public static final String NAME = "reference";

    private final LeakDetector leaks;
    private final HostAllocator allocator;

    /** A reference backend with default options (leak sites as {@code sinew.leakDetection} says). */
    public ReferenceBackend() {
        this(BackendOptions.defaults());
    }

    /** A reference backend; it is single-threaded, so {@code options.threads()} is ignored. */
    public ReferenceBackend(BackendOptions options) {
        Objects.requireNonNull(options, "options");
        this.leaks = new LeakDetector(NAME, options.recordLeakSites(), System.err::println);
        this.allocator = new HostAllocator(this, leaks);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("kind", "plain Java, double accumulation");
        m.put("threads", "1");
        return Collections.unmodifiableMap(m);
    }

    @Override
    public Backend primitives() {
        return this;
    }

    // ---- element access ----------------------------------------------------------------------

    /** The memory behind a view, after checking that its storage is host memory and still open. */
    private static MemorySegment segment(View v) {
        if (!(v.storage() instanceof HostStorage hs)) {
            throw new IllegalArgumentException("reference backend: " + v + " is not host memory (storage of the "
                    + v.storage().backend().name() + " backend)");
        }
        return hs.segment();
    }

    /** Element at storage index {@code i} (in elements) of a segment holding {@code t}, as a double. */
    static double get(MemorySegment s, DType t, long i) {
        return switch (t) {
            case FLOAT32 -> s.get(ValueLayout.JAVA_FLOAT, i * 4L);
            case FLOAT64 -> s.get(ValueLayout.JAVA_DOUBLE, i * 8L);
            case INT64 -> (double) s.get(ValueLayout.JAVA_LONG, i * 8L);
        };
    }

    /** Element at storage index {@code i}, as a long (floats are truncated like a cast). */
    static long getLong(MemorySegment s, DType t, long i) {
        return switch (t) {
            case FLOAT32 -> (long) s.get(ValueLayout.JAVA_FLOAT, i * 4L);
            case FLOAT64 -> (long) s.get(ValueLayout.JAVA_DOUBLE, i * 8L);
            case INT64 -> s.get(ValueLayout.JAVA_LONG, i * 8L);
        };
    }

    /** Stores {@code v} at storage index {@code i}, converted to {@code t} (round to float, cast to long). */
    static void set(MemorySegment s, DType t, long i, double v) {
        switch (t) {
            case FLOAT32 -> s.set(ValueLayout.JAVA_FLOAT, i * 4L, (float) v);
            case FLOAT64 -> s.set(ValueLayout.JAVA_DOUBLE, i * 8L, v);
            case INT64 -> s.set(ValueLayout.JAVA_LONG, i * 8L, (long) v);
        }
    }

    /** Stores an integer value at storage index {@code i}, rounding to nearest for float types. */
    static void setLong(MemorySegment s, DType t, long i, long v) {
        switch (t) {
            case FLOAT32 -> s.set(ValueLayout.JAVA_FLOAT, i * 4L, (float) v);
            case FLOAT64 -> s.set(ValueLayout.JAVA_DOUBLE, i * 8L, (double) v);
            case INT64 -> s.set(ValueLayout.JAVA_LONG, i * 8L, v);
        }
    }

    /** Element at {@code storageIndex} of the view's storage, as a double. */
    static double get(View v, long storageIndex) {
        return get(segment(v), v.dtype(), storageIndex);
    }

    /** Stores {@code value} at {@code storageIndex} of the view's storage, converted to its dtype. */
    static void set(View v, long storageIndex, double value) {
        set(segment(v), v.dtype(), storageIndex, value);
    }

    /** A view's segment and dtype, fetched once per op (the fetch checks liveness). */
    private record Buf(MemorySegment s, DType t) {
        Buf(View v) {
            this(segment(v), v.dtype());
        }

        double get(long i) {
            return ReferenceBackend.get(s, t, i);
        }

        long getLong(long i) {
            return ReferenceBackend.getLong(s, t, i);
        }

        void set(long i, double v) {
            ReferenceBackend.set(s, t, i, v);
        }

        void setLong(long i, long v) {
            ReferenceBackend.setLong(s, t, i, v);
        }
    }

    private static void requireShape(String op, String arg, View v, long[] shape) {
        if (!Arrays.equals(v.shape(), shape)) {
            throw new IllegalArgumentException(op + ": " + arg + " has shape " + Arrays.toString(v.shape())
                    + ", expected " + Arrays.toString(shape));
        }
    }

    // ---- memory ------------------------------------------------------------------------------

    @Override
    public Storage allocate(DType dtype, long elements) {
        return allocator.allocate(dtype, elements);
    }

    private static void requireHostBytes(String op, MemorySegment host, View v) {
        long need = v.numel() * v.dtype().byteSize();
        if (host.byteSize() < need) {
            throw new IllegalArgumentException(op + ": host segment has " + host.byteSize() + " bytes, "
                    + v + " needs " + need);
        }
    }

    @Override
    public void copyFromHost(MemorySegment src, View dst) {
        requireHostBytes("copyFromHost", src, dst);
        MemorySegment d = segment(dst);
        long n = dst.numel();
        Odometer it = new Odometer(dst.shape(), dst);
        for (long i = 0; i < n; i++, it.next()) {
            long j = it.pos(0);
            switch (dst.dtype()) { // raw copy: host data is already in dst's dtype
                case FLOAT32 -> d.set(ValueLayout.JAVA_FLOAT, j * 4L, src.get(ValueLayout.JAVA_FLOAT_UNALIGNED, i * 4L));
                case FLOAT64 -> d.set(ValueLayout.JAVA_DOUBLE, j * 8L, src.get(ValueLayout.JAVA_DOUBLE_UNALIGNED, i * 8L));
                case INT64 -> d.set(ValueLayout.JAVA_LONG, j * 8L, src.get(ValueLayout.JAVA_LONG_UNALIGNED, i * 8L));
            }
        }
    }

    @Override
    public void copyToHost(View src, MemorySegment dst) {
        requireHostBytes("copyToHost", dst, src);
        MemorySegment s = segment(src);
        long n = src.numel();
        Odometer it = new Odometer(src.shape(), src);
        for (long i = 0; i < n; i++, it.next()) {
            long j = it.pos(0);
            switch (src.dtype()) {
                case FLOAT32 -> dst.set(ValueLayout.JAVA_FLOAT_UNALIGNED, i * 4L, s.get(ValueLayout.JAVA_FLOAT, j * 4L));
                case FLOAT64 -> dst.set(ValueLayout.JAVA_DOUBLE_UNALIGNED, i * 8L, s.get(ValueLayout.JAVA_DOUBLE, j * 8L));
                case INT64 -> dst.set(ValueLayout.JAVA_LONG_UNALIGNED, i * 8L, s.get(ValueLayout.JAVA_LONG, j * 8L));
            }
        }
    }

    @Override
    public void copy(View src, View dst) {
        requireShape("copy", "src", src, dst.shape());
        Buf s = new Buf(src);
        Buf d = new Buf(dst);
        long n = dst.numel();
        Odometer it = new Odometer(dst.shape(), src, dst);
        boolean integer = src.dtype() == DType.INT64;
        for (long i = 0; i < n; i++, it.next()) {
            if (integer) {
                d.setLong(it.pos(1), s.getLong(it.pos(0)));
            } else {
                d.set(it.pos(1), s.get(it.pos(0)));
            }
        }
    }

    @Override
    public void fill(View dst, double value) {
        Buf d = new Buf(dst);
        long n = dst.numel();
        Odometer it = new Odometer(dst.shape(), dst);
        for (long i = 0; i < n; i++, it.next()) {
            d.set(it.pos(0), value);
        }
    }

    @Override
    public void random(View dst, Distribution dist, double a, double b, long seed, long offset) {
        Buf d = new Buf(dst);
        long n = dst.numel();
        Odometer it = new Odometer(dst.shape(), dst);
        for (long i = 0; i < n; i++, it.next()) {
            d.set(it.pos(0), Philox.sample(dist, a, b, seed, offset + i));
        }
    }

    // ---- elementwise -------------------------------------------------------------------------

    /** The double definition of each unary op. */
    static double unary(UnaryOp op, double x) {
        return switch (op) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case SIGN -> Math.signum(x);
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1.0 / Math.sqrt(x);
            case RECIPROCAL -> 1.0 / x;
            case SQUARE -> x * x;
            case TANH -> Math.tanh(x);
            case SIGMOID -> x >= 0 ? 1.0 / (1.0 + Math.exp(-x)) : Math.exp(x) / (1.0 + Math.exp(x));
            case RELU -> x > 0 || Double.isNaN(x) ? x : 0.0;
            case SIN -> Math.sin(x);
            case COS -> Math.cos(x);
        };
    }

    /** Whether INT64 operands of {@code op} are computed exactly in long arithmetic. */
    private static boolean exactOnLongs(UnaryOp op) {
        return switch (op) {
            case NEG, ABS, SIGN, SQUARE, RELU -> true;
            default -> false;
        };
    }

    private static long unaryLong(UnaryOp op, long x) {
        return switch (op) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case SIGN -> Long.signum(x);
            case SQUARE -> x * x;
            case RELU -> Math.max(x, 0L);
            default -> throw new IllegalStateException("no exact INT64 form of " + op);
        };
    }

    @Override
    public void unary(UnaryOp op, View x, View out) {
        requireShape("unary " + op, "x", x, out.shape());
        Buf bx = new Buf(x);
        Buf bo = new Buf(out);
        boolean exact = x.dtype() == DType.INT64 && out.dtype() == DType.INT64 && exactOnLongs(op);
        long n = out.numel();
        Odometer it = new Odometer(out.shape(), x, out);
        for (long i = 0; i < n; i++, it.next()) {
            if (exact) {
                bo.setLong(it.pos(1), unaryLong(op, bx.getLong(it.pos(0))));
            } else {
                bo.set(it.pos(1), unary(op, bx.get(it.pos(0))));
            }
        }
    }

    /** The double definition of each binary op (comparisons give 1 or 0). */
    static double binary(BinaryOp op, double a, double b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case POW -> Math.pow(a, b);
            case EQ -> a == b ? 1 : 0;
            case NE -> a != b ? 1 : 0;
            case LT -> a < b ? 1 : 0;
            case LE -> a <= b ? 1 : 0;
            case GT -> a > b ? 1 : 0;
            case GE -> a >= b ? 1 : 0;
        };
    }

    private static long binaryLong(BinaryOp op, long a, long b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case EQ -> a == b ? 1 : 0;
            case NE -> a != b ? 1 : 0;
            case LT -> a < b ? 1 : 0;
            case LE -> a <= b ? 1 : 0;
            case GT -> a > b ? 1 : 0;
            case GE -> a >= b ? 1 : 0;
            case DIV, POW -> throw new IllegalStateException("no exact INT64 form of " + op);
        };
    }

    @Override
    public void binary(BinaryOp op, View a, View b, View out) {
        requireShape("binary " + op, "a", a, out.shape());
        requireShape("binary " + op, "b", b, out.shape());
        Buf ba = new Buf(a);
        Buf bb = new Buf(b);
        Buf bo = new Buf(out);
        boolean exact = a.dtype() == DType.INT64 && b.dtype() == DType.INT64 && op != BinaryOp.DIV
                && op != BinaryOp.POW;
        long n = out.numel();
        Odometer it = new Odometer(out.shape(), a, b, out);
        for (long i = 0; i < n; i++, it.next()) {
            if (exact) {
                bo.setLong(it.pos(2), binaryLong(op, ba.getLong(it.pos(0)), bb.getLong(it.pos(1))));
            } else {
                bo.set(it.pos(2), binary(op, ba.get(it.pos(0)), bb.get(it.pos(1))));
            }
        }
    }

    @Override
    public void where(View cond, View a, View b, View out) {
        requireShape("where", "cond", cond, out.shape());
        requireShape("where", "a", a, out.shape());
        requireShape("where", "b", b, out.shape());
        Buf bc = new Buf(cond);
        Buf ba = new Buf(a);
        Buf bb = new Buf(b);
        Buf bo = new Buf(out);
        boolean integer = a.dtype() == DType.INT64 && b.dtype() == DType.INT64;
        long n = out.numel();
        Odometer it = new Odometer(out.shape(), cond, a, b, out);
        for (long i = 0; i < n; i++, it.next()) {
            boolean c = bc.get(it.pos(0)) != 0; // NaN != 0 is true
            if (integer) {
                bo.setLong(it.pos(3), c ? ba.getLong(it.pos(1)) : bb.getLong(it.pos(2)));
            } else {
                bo.set(it.pos(3), c ? ba.get(it.pos(1)) : bb.get(it.pos(2)));
            }
        }
    }

    // ---- reductions --------------------------------------------------------------------------

    @Override
    public void reduce(ReduceOp op, View x, View out) {
        String name = "reduce " + op;
        int rank = x.rank();
        if (out.rank() != rank) {
            throw new IllegalArgumentException(name + ": out " + Arrays.toString(out.shape()) + " must have the rank of x "
                    + Arrays.toString(x.shape()));
        }
        // slotStrides: x-coordinates -> row-major index into out, 0 along reduced axes
        long[] slotStrides = View.contiguousStrides(out.shape());
        int reducedAxis = -1;
        int reducedCount = 0;
        for (int d = 0; d < rank; d++) {
            long xs = x.shape()[d];
            long os = out.shape()[d];
            if (os == xs) {
                continue;
            }
            if (os != 1) {
                throw new IllegalArgumentException(name + ": out " + Arrays.toString(out.shape()) + " must match x "
                        + Arrays.toString(x.shape()) + " or be 1 on each axis (axis " + d + ")");
            }
            slotStrides[d] = 0;
            reducedAxis = d;
            reducedCount++;
        }
        if (op == ReduceOp.ARGMAX) {
            if (reducedCount > 1) {
                throw new IllegalArgumentException(name + ": reduces exactly one axis, x " + Arrays.toString(x.shape())
                        + " -> out " + Arrays.toString(out.shape()) + " reduces " + reducedCount);
            }
            if (out.dtype() != DType.INT64) {
                throw new IllegalArgumentException(name + ": out must be INT64, got " + out.dtype());
            }
        }
        int slots = Math.toIntExact(out.numel());
        boolean integer = x.dtype() == DType.INT64;
        double[] acc = new double[slots];   // SUM/MAX/MIN over floats; best value for ARGMAX
        long[] accLong = new long[slots];   // SUM/MAX/MIN over INT64; best value for ARGMAX over INT64
        long[] arg = new long[slots];       // ARGMAX index
        boolean[] seen = new boolean[slots];
        switch (op) {
            case MAX -> {
                Arrays.fill(acc, Double.NEGATIVE_INFINITY);
                Arrays.fill(accLong, Long.MIN_VALUE);
            }
            case MIN -> {
                Arrays.fill(acc, Double.POSITIVE_INFINITY);
                Arrays.fill(accLong, Long.MAX_VALUE);
            }
            default -> {
            }
        }
        Buf bx = new Buf(x);
        long n = x.numel();
        Odometer it = new Odometer(x.shape(), new long[] {x.offset(), 0}, new long[][] {x.strides(), slotStrides});
        for (long i = 0; i < n; i++, it.next()) {
            int s = (int) it.pos(1);
            long xi = it.pos(0);
            if (integer) {
                long v = bx.getLong(xi);
                switch (op) {
                    case SUM -> accLong[s] += v;
                    case MAX -> accLong[s] = Math.max(accLong[s], v);
                    case MIN -> accLong[s] = Math.min(accLong[s], v);
                    case ARGMAX -> {
                        if (!seen[s] || v > accLong[s]) {
                            seen[s] = true;
                            accLong[s] = v;
                            arg[s] = reducedAxis < 0 ? 0 : it.coordinate(reducedAxis);
                        }
                    }
                }
            } else {
                double v = bx.get(xi);
                switch (op) {
                    case SUM -> acc[s] += v;
                    case MAX -> acc[s] = Math.max(acc[s], v);
                    case MIN -> acc[s] = Math.min(acc[s], v);
                    case ARGMAX -> {
                        // first maximum; NaN beats every number and the first NaN wins
                        boolean better = !seen[s] || (!Double.isNaN(acc[s]) && (v > acc[s] || Double.isNaN(v)));
                        if (better) {
                            seen[s] = true;
                            acc[s] = v;
                            arg[s] = reducedAxis < 0 ? 0 : it.coordinate(reducedAxis);
                        }
                    }
                }
            }
        }
        Buf bo = new Buf(out);
        Odometer ot = new Odometer(out.shape(), out);
        for (int s = 0; s < slots; s++, ot.next()) {
            long oi = ot.pos(0);
            if (op == ReduceOp.ARGMAX) {
                bo.setLong(oi, arg[s]);
            } else if (integer) {
                bo.setLong(oi, accLong[s]);
            } else {
                bo.set(oi, acc[s]);
            }
        }
    }

    // ---- matmul ------------------------------------------------------------------------------

    @Override
    public void matmul(View a, View b, View out) {
        if (a.rank() != 3 || b.rank() != 3 || out.rank() != 3) {
            throw new IllegalArgumentException("matmul: operands must be rank 3 [P, M, K] x [P, K, N] -> [P, M, N], got "
                    + Arrays.toString(a.shape()) + " x " + Arrays.toString(b.shape()) + " -> "
                    + Arrays.toString(out.shape()));
        }
        long p = out.shape()[0];
        long m = out.shape()[1];
        long nn = out.shape()[2];
        long k = a.shape()[2];
        requireShape("matmul", "a", a, new long[] {p, m, k});
        requireShape("matmul", "b", b, new long[] {p, k, nn});
        Buf ba = new Buf(a);
        Buf bb = new Buf(b);
        Buf bo = new Buf(out);
        long[] as = a.strides();
        long[] bs = b.strides();
        long[] os = out.strides();
        boolean integer = a.dtype() == DType.INT64 && b.dtype() == DType.INT64;
        for (long pi = 0; pi < p; pi++) {
            for (long i = 0; i < m; i++) {
                for (long j = 0; j < nn; j++) {
                    long ai = a.offset() + pi * as[0] + i * as[1];
                    long bi = b.offset() + pi * bs[0] + j * bs[2];
                    long oi = out.offset() + pi * os[0] + i * os[1] + j * os[2];
                    if (integer) {
                        long sum = 0;
                        for (long q = 0; q < k; q++) {
                            sum += ba.getLong(ai + q * as[2]) * bb.getLong(bi + q * bs[1]);
                        }
                        bo.setLong(oi, sum);
                    } else {
                        double sum = 0;
                        for (long q = 0; q < k; q++) {
                            sum += ba.get(ai + q * as[2]) * bb.get(bi + q * bs[1]);
                        }
                        bo.set(oi, sum);
                    }
                }
            }
        }
    }

    // ---- convolution and pooling (plain loops, see ReferenceConv) -------------------------------

    @Override
    public void conv2d(View x, View w, View bias, View out, Conv2dParams p) {
        ReferenceConv.conv2d(x, w, bias, out, p);
    }

    @Override
    public void conv2dBackwardData(View dy, View w, View dx, Conv2dParams p) {
        ReferenceConv.conv2dBackwardData(dy, w, dx, p);
    }

    @Override
    public void conv2dBackwardFilter(View x, View dy, View dw, View dBias, Conv2dParams p) {
        ReferenceConv.conv2dBackwardFilter(x, dy, dw, dBias, p);
    }

    @Override
    public void maxPool2d(View x, View out, Pool2dParams p) {
        ReferenceConv.maxPool2d(x, out, p);
    }

    @Override
    public void maxPool2dBackward(View x, View y, View dy, View dx, Pool2dParams p) {
        ReferenceConv.maxPool2dBackward(x, y, dy, dx, p);
    }

    @Override
    public void avgPool2d(View x, View out, Pool2dParams p) {
        ReferenceConv.avgPool2d(x, out, p);
    }

    @Override
    public void avgPool2dBackward(View dy, View dx, Pool2dParams p) {
        ReferenceConv.avgPool2dBackward(dy, dx, p);
    }

    // ---- recurrent layers (plain loops, see ReferenceRnn) ---------------------------------------

    /** The reference keeps nothing between forward and backward: its backward recomputes in double. */
    @Override
    public long rnnReserveSize(RnnParams p, long seqLen, long batch) {
        return ReferenceRnn.RESERVE;
    }

    @Override
    public void rnnForward(RnnParams p, long[] lengths, View x, View h0, View c0, List<View> weights, View y,
            View hN, View cN, View reserve) {
        ReferenceRnn.forward(p, lengths, x, h0, c0, weights, y, hN, cN);
    }

    @Override
    public void rnnBackward(RnnParams p, long[] lengths, View x, View h0, View c0, List<View> weights, View y,
            View reserve, View dy, View dhN, View dcN, View dx, View dh0, View dc0, List<View> dWeights) {
        ReferenceRnn.backward(p, lengths, x, h0, c0, weights, dy, dhN, dcN, dx, dh0, dc0, dWeights);
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

    /** Closes the allocator: cached blocks are freed now, live ones when their storages are released. */
    @Override
    public void close() {
        allocator.close();
    }

    @Override
    public String toString() {
        return "ReferenceBackend";
    }
}
