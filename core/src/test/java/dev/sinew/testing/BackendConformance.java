package dev.sinew.testing;

import static dev.sinew.testing.Layout.BROADCAST_FIRST;
import static dev.sinew.testing.Layout.BROADCAST_LAST;
import static dev.sinew.testing.Layout.CONTIGUOUS;
import static dev.sinew.testing.Layout.PERMUTED;
import static dev.sinew.testing.Layout.SCALAR;
import static dev.sinew.testing.Layout.SLICED;
import static dev.sinew.testing.Layout.STRIDED;
import static dev.sinew.testing.Layout.TRANSPOSED;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.reference.ReferenceBackend;
import dev.sinew.spi.Backend;
import dev.sinew.spi.BackendOptions;
import dev.sinew.spi.BinaryOp;
import dev.sinew.spi.Distribution;
import dev.sinew.spi.FusedOps;
import dev.sinew.spi.ReduceOp;
import dev.sinew.spi.Storage;
import dev.sinew.spi.UnaryOp;
import dev.sinew.spi.View;
import dev.sinew.testing.RandomData.Domain;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The backend conformance suite: every primitive and fused op of the SPI, run on the backend under
 * test and on a {@link ReferenceBackend} with identical inputs, compared element by element.
 *
 * <p>Subclass it in a backend's tests and implement {@link #createBackend()}. Inputs are seeded
 * random data ({@link RandomData}, seed from the test's name) in FLOAT32, FLOAT64 and, where
 * meaningful, INT64, over ragged shapes (1, 7, 31, 32, 33, 1000, 4099, rank 0 to 3) and every
 * {@link Layout}: contiguous, sliced, strided, permuted, transposed and broadcast (stride 0) views.
 * Outputs are written into views with gaps, and the <em>whole</em> output storages are compared,
 * so a write outside the view is caught too. Tolerance is {@code atol + rtol·|ref|} per element
 * ({@link #tolerance}), widened with the number of summed terms for reductions and matmul. Casts,
 * fills, selections (where, MAX/MIN, ARGMAX), comparisons, UNIFORM [0, 1) and BERNOULLI random
 * fills must agree exactly; NORMAL and general UNIFORM fills to a few ulps (log/cos and fma freedom).
 *
 * <p>Lifecycle: one backend under test and one reference backend per test class (created before
 * the first test, closed after the last). Each test releases everything it allocates (a
 * {@link Case} does it in {@code close()}), and after each test both backends must report zero
 * live and zero leaked buffers: that also checks the backend's fused ops release their temporaries.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class BackendConformance {

    /** Makes the backend under test; the suite owns it and closes it after the last test. */
    protected abstract Backend createBackend();

    private ReferenceBackend ref;
    private Backend dut;
    private SplittableRandom rnd;
    private long refLiveBefore;
    private long dutLiveBefore;
    private long refLeakedBefore;
    private long dutLeakedBefore;

    /** The tolerance for results stored in {@code dtype}; a backend may widen it, saying why. */
    protected Tolerance tolerance(DType dtype) {
        return Tolerance.of(dtype);
    }

    /** The backend under test. */
    protected final Backend backend() {
        return dut;
    }

    /** The reference backend it is compared with. */
    protected final ReferenceBackend reference() {
        return ref;
    }

    /** This test's seeded generator. */
    protected final SplittableRandom random() {
        return rnd;
    }

    @BeforeAll
    final void openBackends() {
        ref = new ReferenceBackend(new BackendOptions(1, true));
        dut = createBackend();
        assertNotSame(ref, dut, "createBackend() must return a new backend");
        assertEquals(0, dut.liveBuffers(), dut.name() + " backend: live buffers right after creation");
    }

    @AfterAll
    final void closeBackends() {
        try {
            if (dut != null) {
                dut.close();
            }
        } finally {
            if (ref != null) {
                ref.close();
            }
        }
    }

    @BeforeEach
    final void seed(TestInfo info) {
        String id = info.getTestMethod().map(m -> m.getName()).orElse("") + "/" + info.getDisplayName();
        rnd = new SplittableRandom(0x5EED_0000_0000_0000L ^ id.hashCode());
        refLiveBefore = ref.liveBuffers();
        dutLiveBefore = dut.liveBuffers();
        refLeakedBefore = ref.leakedBuffers();
        dutLeakedBefore = dut.leakedBuffers();
    }

    /**
     * Both backends must be back to zero live buffers. The count is taken relative to the start of
     * the test (zero unless an earlier test already failed this check), so one leak fails the test
     * that made it rather than every test after it.
     */
    @AfterEach
    final void noLiveBuffers() {
        dut.synchronize();
        assertAll(
                () -> assertEquals(0, ref.liveBuffers() - refLiveBefore,
                        "reference backend: buffers left live by this test (" + refLiveBefore + " live before it)"),
                () -> assertEquals(0, dut.liveBuffers() - dutLiveBefore,
                        dut.name() + " backend: buffers left live by this test (" + dutLiveBefore + " live before it)"),
                () -> assertEquals(0, ref.leakedBuffers() - refLeakedBefore, "reference backend: leaked buffers"),
                () -> assertEquals(0, dut.leakedBuffers() - dutLeakedBefore, dut.name() + " backend: leaked buffers"));
    }

    // ---- test scaffolding --------------------------------------------------------------------

    /** One operand on both backends: {@code ref} on the reference, {@code dut} on the backend under test. */
    protected record Pair(View ref, View dut) {
        /** The view that lives on {@code b}. */
        public View on(Backend b) {
            return ref.storage().backend() == b ? ref : dut;
        }
    }

    /** The views of {@code pairs} that live on {@code b}. */
    protected static List<View> on(Backend b, List<Pair> pairs) {
        List<View> l = new ArrayList<>(pairs.size());
        for (Pair p : pairs) {
            l.add(p.on(b));
        }
        return l;
    }

    /** Runs {@code op} on the reference backend, then on the backend under test. */
    protected final void both(Consumer<Backend> op) {
        op.accept(ref);
        op.accept(dut);
        dut.synchronize();
    }

    /** A new {@link Case}; use it in try-with-resources. */
    protected final Case newCase() {
        return new Case();
    }

    /**
     * The operands of one test case, made identically on both backends and all released by
     * {@link #close()}. Single-threaded.
     */
    protected final class Case implements AutoCloseable {
        private final List<Storage> owned = new ArrayList<>();

        private Case() {
        }

        /** Random data from {@code domain} in the whole storage of a {@code layout} view of {@code shape}. */
        public Pair input(DType dt, Layout layout, Domain domain, long... shape) {
            Layout.Geometry g = layout.geometry(shape);
            return place(dt, g, RandomData.doubles(rnd, domain, Math.toIntExact(g.elements())), shape);
        }

        /** An output view (not broadcast); its storage is pre-filled with the same random values on both. */
        public Pair output(DType dt, Layout layout, long... shape) {
            if (layout.isBroadcast()) {
                throw new IllegalArgumentException("an output cannot have broadcast layout " + layout);
            }
            return input(dt, layout, dt == DType.INT64 ? Domain.SMALL_INT : Domain.ANY, shape);
        }

        /** Random data in a view with explicit offset and strides. */
        public Pair input(DType dt, Domain domain, long offset, long[] strides, long... shape) {
            Layout.Geometry g = Layout.Geometry.of(offset, strides, shape);
            return place(dt, g, RandomData.doubles(rnd, domain, Math.toIntExact(g.elements())), shape);
        }

        /** {@code storageData} (storage order) seen through geometry {@code g}. */
        public Pair place(DType dt, Layout.Geometry g, double[] storageData, long... shape) {
            View r = Views.withGeometry(ref, dt, g, storageData, shape);
            owned.add(r.storage());
            View d = Views.withGeometry(dut, dt, g, storageData, shape);
            owned.add(d.storage());
            return new Pair(r, d);
        }

        /**
         * A view of {@code shape} in a non-broadcast {@code layout} whose row-major values are exactly
         * {@code logical}; gaps hold random values.
         */
        public Pair arrange(DType dt, Layout layout, double[] logical, long... shape) {
            if (layout.isBroadcast()) {
                throw new IllegalArgumentException("arrange: broadcast layout " + layout + " cannot hold arbitrary data");
            }
            if (logical.length != Views.numel(shape)) {
                throw new IllegalArgumentException("arrange: " + logical.length + " values for shape " + Arrays.toString(shape));
            }
            Layout.Geometry g = layout.geometry(shape);
            double[] storage = RandomData.doubles(rnd, Domain.ANY, Math.toIntExact(g.elements()));
            for (int i = 0; i < logical.length; i++) {
                storage[Math.toIntExact(g.indexOf(shape, i))] = logical[i];
            }
            return place(dt, g, storage, shape);
        }

        /** A contiguous view holding {@code logical}. */
        public Pair of(DType dt, double[] logical, long... shape) {
            return arrange(dt, CONTIGUOUS, logical, shape);
        }

        @Override
        public void close() {
            for (int i = owned.size() - 1; i >= 0; i--) {
                owned.get(i).release();
            }
            owned.clear();
        }
    }

    /**
     * Compares the whole storages behind {@code out} (gaps included, so stray writes are caught):
     * INT64 exactly, floats within {@code tol}.
     */
    protected final void assertMatches(String what, Pair out, Tolerance tol) {
        View r = Views.wholeStorage(out.ref());
        View d = Views.wholeStorage(out.dut());
        String where = what + " (storage indices; view " + out.dut() + ")";
        if (out.ref().dtype() == DType.INT64) {
            Tolerance.assertExact(where, Views.toLongs(r), Views.toLongs(d));
        } else {
            tol.assertClose(where, Views.toDoubles(r), Views.toDoubles(d));
        }
    }

    private static String desc(String op, DType dt, long[] shape, Object... layouts) {
        return op + " " + dt + " " + Arrays.toString(shape) + " " + Arrays.toString(layouts);
    }

    private static long[] dims(long... d) {
        return d;
    }

    private static final DType[] FLOATS = {DType.FLOAT32, DType.FLOAT64};

    /** Ragged shapes for elementwise ops, rank 0 to 3. */
    private static final long[][] SHAPES = {
        {}, {1}, {7}, {31}, {32}, {33}, {1000}, {4099}, {1, 1}, {3, 17}, {31, 33}, {2, 3, 7}, {4, 1, 5}, {2, 65, 33}
    };

    private static final Layout[] INPUTS = Layout.values();
    private static final Layout[] OUTPUTS = {CONTIGUOUS, PERMUTED, SLICED, STRIDED, TRANSPOSED};

    private static Layout out(int i) {
        return OUTPUTS[Math.floorMod(i, OUTPUTS.length)];
    }

    // ---- memory primitives -------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(DType.class)
    void copyFromHostAndToHost(DType dt) {
        for (long[] shape : SHAPES) {
            for (Layout layout : OUTPUTS) {
                try (Case c = newCase()) {
                    int n = Math.toIntExact(Views.numel(shape));
                    Pair dst = c.output(dt, layout, shape);
                    String what = desc("copyFromHost", dt, shape, layout);
                    if (dt == DType.INT64) {
                        long[] data = new long[n];
                        for (int i = 0; i < n; i++) {
                            data[i] = rnd.nextLong(); // full 64-bit range: must be exact
                        }
                        both(b -> Views.writeLongs(dst.on(b), data));
                        assertMatches(what, dst, Tolerance.EXACT);
                        Tolerance.assertExact(what + " read back", data, Views.toLongs(dst.dut()));
                    } else {
                        double[] data = RandomData.doubles(rnd, Domain.ANY, n);
                        both(b -> Views.write(dst.on(b), data));
                        assertMatches(what, dst, Tolerance.EXACT);
                        Tolerance.assertClose(what + " read back", Views.toDoubles(dst.ref()), Views.toDoubles(dst.dut()),
                                0, 0);
                    }
                }
            }
            for (Layout layout : INPUTS) {
                try (Case c = newCase()) {
                    Pair src = c.input(dt, layout, dt == DType.INT64 ? Domain.BIG_INT : Domain.ANY, shape);
                    String what = desc("copyToHost", dt, shape, layout);
                    if (dt == DType.INT64) {
                        Tolerance.assertExact(what, Views.toLongs(src.ref()), Views.toLongs(src.dut()));
                    } else {
                        Tolerance.EXACT.assertClose(what, Views.toDoubles(src.ref()), Views.toDoubles(src.dut()));
                    }
                }
            }
        }
    }

    static Stream<Arguments> dtypePairs() {
        List<Arguments> l = new ArrayList<>();
        for (DType a : DType.values()) {
            for (DType b : DType.values()) {
                l.add(Arguments.of(a, b));
            }
        }
        return l.stream();
    }

    @ParameterizedTest
    @MethodSource("dtypePairs")
    void copyConverts(DType src, DType dst) {
        Domain dom = src == DType.INT64 ? Domain.BIG_INT : Domain.WIDE;
        for (int si = 0; si < SHAPES.length; si++) {
            long[] shape = SHAPES[si];
            for (int li = 0; li < INPUTS.length; li++) {
                Layout lo = out(si + li);
                try (Case c = newCase()) {
                    Pair x = c.input(src, INPUTS[li], dom, shape);
                    Pair y = c.output(dst, lo, shape);
                    both(b -> b.copy(x.on(b), y.on(b)));
                    // casts are exact: round to nearest float, truncate toward zero into INT64
                    assertMatches(desc("copy " + src + "->", dst, shape, INPUTS[li], lo), y, Tolerance.EXACT);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void fill(DType dt) {
        double[] values = dt == DType.INT64
                ? new double[] {0, 1, -100, 7, 1L << 40, -2.5}
                : new double[] {0, 1, -2.5, 0.1, 3.0e38, -7, 1e-300};
        for (int si = 0; si < SHAPES.length; si++) {
            long[] shape = SHAPES[si];
            for (int vi = 0; vi < values.length; vi++) {
                double v = values[vi];
                Layout lo = out(si + vi);
                try (Case c = newCase()) {
                    Pair y = c.output(dt, lo, shape);
                    both(b -> b.fill(y.on(b), v));
                    assertMatches(desc("fill " + v, dt, shape, lo), y, Tolerance.EXACT);
                }
            }
        }
    }

    /** A random-fill configuration; {@code exact} when the formula leaves no rounding freedom. */
    record RandomCase(Distribution dist, double a, double b, boolean exact) {
    }

    static Stream<Arguments> randomCases() {
        RandomCase[] cases = {
            new RandomCase(Distribution.UNIFORM, 0, 1, true),
            new RandomCase(Distribution.UNIFORM, -2, 3, false),
            new RandomCase(Distribution.NORMAL, 0, 1, false),
            new RandomCase(Distribution.NORMAL, 1.5, 0.25, false),
            new RandomCase(Distribution.BERNOULLI, 0.3, 0, true),
            new RandomCase(Distribution.BERNOULLI, 0.5, 0, true),
        };
        List<Arguments> l = new ArrayList<>();
        for (RandomCase rc : cases) {
            for (DType dt : DType.values()) {
                if (dt != DType.INT64 || rc.dist() == Distribution.BERNOULLI) {
                    l.add(Arguments.of(rc, dt));
                }
            }
        }
        return l.stream();
    }

    /**
     * Random fills must reproduce the reference's Philox stream: UNIFORM on [0, 1) and BERNOULLI bit
     * for bit; NORMAL and a general UNIFORM within a few ulps (they go through log/cos or an
     * {@code a + (b−a)·u} that a device compiler may contract to an fma).
     */
    @ParameterizedTest
    @MethodSource("randomCases")
    void random(RandomCase rc, DType dt) {
        long[] seeds = {0, 42, 0xDEADBEEFCAFEF00DL, -1};
        long[] offsets = {0, 5, (1L << 32) - 1000, (1L << 40) + 3};
        long[][] shapes = {{1}, {7}, {33}, {4099}, {3, 17}, {2, 65, 33}};
        Tolerance tol = rc.exact() ? Tolerance.EXACT
                : dt == DType.FLOAT32 ? new Tolerance(1e-12, 2.4e-7) : new Tolerance(1e-14, 1e-13);
        int k = 0;
        for (long[] shape : shapes) {
            for (long seed : seeds) {
                for (long offset : offsets) {
                    Layout lo = out(k++);
                    try (Case c = newCase()) {
                        Pair y = c.output(dt, lo, shape);
                        both(b -> b.random(y.on(b), rc.dist(), rc.a(), rc.b(), seed, offset));
                        assertMatches(desc("random " + rc + " seed " + seed + " offset " + offset, dt, shape, lo), y, tol);
                    }
                }
            }
        }
    }

    // ---- elementwise -------------------------------------------------------------------------

    private static boolean integerUnary(UnaryOp op) {
        return switch (op) {
            case NEG, ABS, SIGN, SQUARE, RELU -> true;
            default -> false;
        };
    }

    static Stream<Arguments> unaryCases() {
        List<Arguments> l = new ArrayList<>();
        for (UnaryOp op : UnaryOp.values()) {
            for (DType dt : FLOATS) {
                l.add(Arguments.of(op, dt));
            }
            if (integerUnary(op)) {
                l.add(Arguments.of(op, DType.INT64));
            }
        }
        return l.stream();
    }

    private static Domain unaryDomain(UnaryOp op, DType dt) {
        if (dt == DType.INT64) {
            return Domain.SMALL_INT;
        }
        return switch (op) {
            case LOG, SQRT, RSQRT -> Domain.POSITIVE;
            case RECIPROCAL -> Domain.NONZERO;
            case NEG, ABS, SIGN, RELU -> Domain.HALVES;
            case TANH, SIGMOID -> Domain.LOGITS;
            case EXP -> Domain.LOGITS;
            default -> Domain.ANY;
        };
    }

    @ParameterizedTest
    @MethodSource("unaryCases")
    void unary(UnaryOp op, DType dt) {
        Domain dom = unaryDomain(op, dt);
        for (int si = 0; si < SHAPES.length; si++) {
            long[] shape = SHAPES[si];
            for (int li = 0; li < INPUTS.length; li++) {
                Layout lo = out(si + li);
                try (Case c = newCase()) {
                    Pair x = c.input(dt, INPUTS[li], dom, shape);
                    Pair y = c.output(dt, lo, shape);
                    both(b -> b.unary(op, x.on(b), y.on(b)));
                    assertMatches(desc("unary " + op, dt, shape, INPUTS[li], lo), y, tolerance(dt));
                }
            }
        }
    }

    private static final double[] SPECIAL = {
        0.0, -0.0, 1, -1, 0.5, -2.5, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
        1e-30, -1e-30, 100, -100, 1e30, -1e30
    };

    /** NaN, infinities, signed zeros, tiny and huge values: NaN propagates, limits are IEEE's. */
    static Stream<Arguments> floatUnaryCases() {
        return unaryCases().filter(a -> a.get()[1] != DType.INT64);
    }

    @ParameterizedTest
    @MethodSource("floatUnaryCases")
    void unaryWithSpecialValues(UnaryOp op, DType dt) {
        try (Case c = newCase()) {
            Pair x = c.of(dt, SPECIAL, SPECIAL.length);
            Pair y = c.output(dt, CONTIGUOUS, SPECIAL.length);
            both(b -> b.unary(op, x.on(b), y.on(b)));
            assertMatches("unary " + op + " " + dt + " of " + Arrays.toString(SPECIAL), y, tolerance(dt));
        }
    }

    private static boolean integerBinary(BinaryOp op) {
        return op != BinaryOp.DIV && op != BinaryOp.POW;
    }

    static Stream<Arguments> binaryCases() {
        List<Arguments> l = new ArrayList<>();
        for (BinaryOp op : BinaryOp.values()) {
            for (DType dt : FLOATS) {
                l.add(Arguments.of(op, dt));
            }
            if (integerBinary(op)) {
                l.add(Arguments.of(op, DType.INT64));
            }
        }
        return l.stream();
    }

    /** Operand layouts for two-input ops: every layout appears on both sides, broadcast included. */
    private static final Layout[][] LAYOUT_PAIRS = {
        {CONTIGUOUS, CONTIGUOUS}, {SLICED, STRIDED}, {STRIDED, PERMUTED}, {PERMUTED, BROADCAST_FIRST},
        {BROADCAST_FIRST, BROADCAST_LAST}, {BROADCAST_LAST, SCALAR}, {SCALAR, CONTIGUOUS}, {TRANSPOSED, SLICED},
        {PERMUTED, PERMUTED}, {CONTIGUOUS, TRANSPOSED},
    };

    @ParameterizedTest
    @MethodSource("binaryCases")
    void binary(BinaryOp op, DType dt) {
        Domain da;
        Domain db;
        if (dt == DType.INT64) {
            da = Domain.SMALL_INT;
            db = Domain.SMALL_INT;
        } else {
            switch (op) {
                case DIV -> {
                    da = Domain.ANY;
                    db = Domain.NONZERO;
                }
                case POW -> {
                    da = Domain.POSITIVE;
                    db = Domain.ANY;
                }
                case ADD, SUB, MUL -> {
                    da = Domain.ANY;
                    db = Domain.ANY;
                }
                default -> { // MAX, MIN and comparisons: ties matter
                    da = Domain.HALVES;
                    db = Domain.HALVES;
                }
            }
        }
        for (int si = 0; si < SHAPES.length; si++) {
            long[] shape = SHAPES[si];
            for (int pi = 0; pi < LAYOUT_PAIRS.length; pi++) {
                Layout la = LAYOUT_PAIRS[pi][0];
                Layout lb = LAYOUT_PAIRS[pi][1];
                Layout lo = out(si + pi);
                try (Case c = newCase()) {
                    Pair a = c.input(dt, la, da, shape);
                    Pair b2 = c.input(dt, lb, db, shape);
                    Pair y = c.output(dt, lo, shape);
                    both(b -> b.binary(op, a.on(b), b2.on(b), y.on(b)));
                    Tolerance tol = op.isComparison() || op == BinaryOp.MAX || op == BinaryOp.MIN
                            ? Tolerance.EXACT : tolerance(dt);
                    assertMatches(desc("binary " + op, dt, shape, la, lb, lo), y, tol);
                }
            }
        }
    }

    /**
     * In-place updates: unary, binary and copy must accept an output that is exactly an input's view
     * (gradient accumulation does {@code grad = grad + g}); contiguous and strided, small and large.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void inPlaceOutputAliasingAnInput(DType dt) {
        for (long[] shape : new long[][] {{7}, {3, 33}, {40000}, {130, 131}}) {
            for (Layout lo : new Layout[] {CONTIGUOUS, STRIDED}) {
                try (Case c = newCase()) {
                    Pair acc = c.input(dt, lo, Domain.ANY, shape);
                    Pair g = c.input(dt, BROADCAST_LAST, Domain.ANY, shape);
                    both(b -> b.binary(BinaryOp.ADD, acc.on(b), g.on(b), acc.on(b)));
                    both(b -> b.unary(UnaryOp.TANH, acc.on(b), acc.on(b)));
                    both(b -> b.binary(BinaryOp.MUL, g.on(b), acc.on(b), acc.on(b)));
                    both(b -> b.copy(acc.on(b), acc.on(b)));
                    assertMatches(desc("in-place add/tanh/mul/copy", dt, shape, lo, BROADCAST_LAST, lo), acc,
                            tolerance(dt));
                }
            }
        }
    }

    static Stream<Arguments> nanBinaryCases() {
        List<Arguments> l = new ArrayList<>();
        for (BinaryOp op : BinaryOp.values()) {
            if (op == BinaryOp.MAX || op == BinaryOp.MIN || op.isComparison()) {
                for (DType dt : FLOATS) {
                    l.add(Arguments.of(op, dt));
                }
            }
        }
        return l.stream();
    }

    /** MAX/MIN propagate NaN; comparisons with NaN are false except NE. */
    @ParameterizedTest
    @MethodSource("nanBinaryCases")
    void binaryWithNaN(BinaryOp op, DType dt) {
        for (long[] shape : new long[][] {{33}, {3, 17}, {4099}}) {
            try (Case c = newCase()) {
                Pair a = c.input(dt, CONTIGUOUS, Domain.HALVES_NAN, shape);
                Pair b2 = c.input(dt, STRIDED, Domain.HALVES_NAN, shape);
                Pair y = c.output(dt, CONTIGUOUS, shape);
                both(b -> b.binary(op, a.on(b), b2.on(b), y.on(b)));
                assertMatches(desc("binary " + op + " with NaN", dt, shape), y, Tolerance.EXACT);
            }
        }
    }

    static Stream<Arguments> whereCases() {
        return dtypePairs();
    }

    @ParameterizedTest
    @MethodSource("whereCases")
    void where(DType condType, DType dt) {
        Domain dom = dt == DType.INT64 ? Domain.BIG_INT : Domain.ANY;
        for (int si = 0; si < SHAPES.length; si++) {
            long[] shape = SHAPES[si];
            for (int li = 0; li < INPUTS.length; li++) {
                Layout lc = INPUTS[li];
                Layout la = INPUTS[(li + 3) % INPUTS.length];
                Layout lb = INPUTS[(li + 5) % INPUTS.length];
                Layout lo = out(si + li);
                try (Case c = newCase()) {
                    Pair cond = c.input(condType, lc, Domain.SPARSE, shape);
                    Pair a = c.input(dt, la, dom, shape);
                    Pair b2 = c.input(dt, lb, dom, shape);
                    Pair y = c.output(dt, lo, shape);
                    both(b -> b.where(cond.on(b), a.on(b), b2.on(b), y.on(b)));
                    assertMatches(desc("where cond " + condType, dt, shape, lc, la, lb, lo), y, Tolerance.EXACT);
                }
            }
        }
    }

    // ---- reductions --------------------------------------------------------------------------

    /** A reduction of {@code shape} over {@code axes}. */
    record Reduction(long[] shape, int[] axes) {
        long[] outShape() {
            long[] o = shape.clone();
            for (int a : axes) {
                o[a] = 1;
            }
            return o;
        }

        long terms() {
            long t = 1;
            for (int a : axes) {
                t *= shape[a];
            }
            return t;
        }

        @Override
        public String toString() {
            return Arrays.toString(shape) + " over " + Arrays.toString(axes);
        }
    }

    private static final Reduction[] REDUCTIONS = {
        new Reduction(dims(1), new int[] {0}),
        new Reduction(dims(1000), new int[] {0}),
        new Reduction(dims(4099), new int[] {0}),
        new Reduction(dims(7, 33), new int[] {0}),
        new Reduction(dims(7, 33), new int[] {1}),
        new Reduction(dims(7, 33), new int[] {0, 1}),
        new Reduction(dims(33, 7), new int[] {1}),
        new Reduction(dims(3, 17, 31), new int[] {0}),
        new Reduction(dims(3, 17, 31), new int[] {1}),
        new Reduction(dims(3, 17, 31), new int[] {2}),
        new Reduction(dims(3, 17, 31), new int[] {0, 2}),
        new Reduction(dims(3, 17, 31), new int[] {1, 2}),
        new Reduction(dims(3, 17, 31), new int[] {0, 1, 2}),
        new Reduction(dims(2, 1, 5), new int[] {2}),
        new Reduction(dims(4, 32, 33), new int[] {2}),
        new Reduction(dims(2, 4099), new int[] {1}),
        new Reduction(dims(130, 1, 65), new int[] {0}),
    };

    static Stream<Arguments> reduceCases() {
        List<Arguments> l = new ArrayList<>();
        for (ReduceOp op : ReduceOp.values()) {
            for (DType dt : DType.values()) {
                l.add(Arguments.of(op, dt));
            }
        }
        return l.stream();
    }

    @ParameterizedTest
    @MethodSource("reduceCases")
    void reduce(ReduceOp op, DType dt) {
        Domain dom = dt == DType.INT64 ? Domain.SMALL_INT : op == ReduceOp.SUM ? Domain.ANY : Domain.HALVES;
        DType outType = op == ReduceOp.ARGMAX ? DType.INT64 : dt;
        for (int ri = 0; ri < REDUCTIONS.length; ri++) {
            Reduction r = REDUCTIONS[ri];
            if (op == ReduceOp.ARGMAX && r.axes().length != 1) {
                continue;
            }
            for (int k = 0; k < 3; k++) {
                Layout li = INPUTS[(ri + 3 * k) % INPUTS.length];
                Layout lo = k == 1 ? PERMUTED : k == 2 ? SLICED : CONTIGUOUS;
                try (Case c = newCase()) {
                    Pair x = c.input(dt, li, dom, r.shape());
                    Pair y = c.output(outType, lo, r.outShape());
                    both(b -> b.reduce(op, x.on(b), y.on(b)));
                    Tolerance tol = op == ReduceOp.SUM ? tolerance(outType).forTerms(r.terms()) : Tolerance.EXACT;
                    assertMatches(desc("reduce " + op + " " + r, dt, r.shape(), li, lo), y, tol);
                }
            }
        }
    }

    static Stream<Arguments> nanReduceCases() {
        List<Arguments> l = new ArrayList<>();
        for (ReduceOp op : ReduceOp.values()) {
            for (DType dt : FLOATS) {
                l.add(Arguments.of(op, dt));
            }
        }
        return l.stream();
    }

    /** MAX/MIN propagate NaN; ARGMAX picks the first NaN (NaN beats every number). */
    @ParameterizedTest
    @MethodSource("nanReduceCases")
    void reduceWithNaN(ReduceOp op, DType dt) {
        DType outType = op == ReduceOp.ARGMAX ? DType.INT64 : dt;
        for (Reduction r : REDUCTIONS) {
            if (op == ReduceOp.ARGMAX && r.axes().length != 1) {
                continue;
            }
            try (Case c = newCase()) {
                Pair x = c.input(dt, CONTIGUOUS, Domain.HALVES_NAN, r.shape());
                Pair y = c.output(outType, CONTIGUOUS, r.outShape());
                both(b -> b.reduce(op, x.on(b), y.on(b)));
                Tolerance tol = op == ReduceOp.SUM ? tolerance(outType).forTerms(r.terms()) : Tolerance.EXACT;
                assertMatches(desc("reduce " + op + " with NaN " + r, dt, r.shape()), y, tol);
            }
        }
    }

    // ---- matmul ------------------------------------------------------------------------------

    /** How a {@code [P, R, C]} matmul operand sits in memory. */
    enum MatLayout {
        /** Row-major. */
        N,
        /** Transposed: strides {@code [R·C, 1, R]}. */
        T,
        /** One matrix for every batch entry: batch stride 0. */
        BATCH0,
        /** A window of a larger row-major parent. */
        SLICED,
        /** Every other element. */
        STRIDED;

        long[] strides(long p, long r, long c) {
            return switch (this) {
                case N -> new long[] {r * c, c, 1};
                case T -> new long[] {r * c, 1, r};
                case BATCH0 -> new long[] {0, c, 1};
                case SLICED -> new long[] {(r + 1) * (c + 3), c + 3, 1};
                case STRIDED -> new long[] {2 * r * c, 2 * c, 2};
            };
        }

        long offset(long c) {
            return switch (this) {
                case SLICED -> (c + 3) + 2;
                case STRIDED -> 1;
                default -> 0;
            };
        }
    }

    /** A matmul size: {@code [P, M, K] x [P, K, N]}. */
    record MatmulSize(long p, long m, long k, long n) {
    }

    private static final MatmulSize[] MATMULS = {
        new MatmulSize(1, 1, 1, 1),
        new MatmulSize(1, 3, 17, 33),
        new MatmulSize(2, 17, 33, 3),
        new MatmulSize(1, 64, 64, 64),
        new MatmulSize(1, 65, 127, 130),
        new MatmulSize(3, 33, 65, 17),
        new MatmulSize(1, 130, 1, 127),
        new MatmulSize(2, 1, 130, 65),
        new MatmulSize(1, 127, 3, 1),
        new MatmulSize(4, 7, 31, 9),
        new MatmulSize(2, 33, 64, 65),
    };

    /** Operand layouts {a, b, out}: all four transposes, batch stride 0 on either side, windows. */
    private static final MatLayout[][] MATMUL_LAYOUTS = {
        {MatLayout.N, MatLayout.N, MatLayout.N},
        {MatLayout.T, MatLayout.N, MatLayout.N},
        {MatLayout.N, MatLayout.T, MatLayout.N},
        {MatLayout.T, MatLayout.T, MatLayout.T},
        {MatLayout.BATCH0, MatLayout.N, MatLayout.N},
        {MatLayout.N, MatLayout.BATCH0, MatLayout.T},
        {MatLayout.SLICED, MatLayout.STRIDED, MatLayout.SLICED},
        {MatLayout.STRIDED, MatLayout.SLICED, MatLayout.STRIDED},
    };

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void matmul(DType dt) {
        for (MatmulSize s : MATMULS) {
            for (MatLayout[] ls : MATMUL_LAYOUTS) {
                try (Case c = newCase()) {
                    Pair a = c.input(dt, Domain.ANY, ls[0].offset(s.k()), ls[0].strides(s.p(), s.m(), s.k()),
                            s.p(), s.m(), s.k());
                    Pair b2 = c.input(dt, Domain.ANY, ls[1].offset(s.n()), ls[1].strides(s.p(), s.k(), s.n()),
                            s.p(), s.k(), s.n());
                    Pair y = c.input(dt, Domain.ANY, ls[2].offset(s.n()), ls[2].strides(s.p(), s.m(), s.n()),
                            s.p(), s.m(), s.n());
                    both(b -> b.matmul(a.on(b), b2.on(b), y.on(b)));
                    assertMatches("matmul " + dt + " " + s + " " + Arrays.toString(ls), y,
                            tolerance(dt).forTerms(s.k()));
                }
            }
        }
    }

    // ---- fused: softmax ----------------------------------------------------------------------

    static Stream<Arguments> floatsAndFlag() {
        List<Arguments> l = new ArrayList<>();
        for (DType dt : FLOATS) {
            l.add(Arguments.of(dt, false));
            l.add(Arguments.of(dt, true));
        }
        return l.stream();
    }

    private static final long[][] SOFTMAX_SHAPES = {
        {1, 1}, {5}, {1, 7}, {4, 1}, {7, 33}, {33, 1000}, {3, 4, 17}, {2, 4099}, {32, 32}
    };

    private static final Layout[] SOFTMAX_INPUTS = {CONTIGUOUS, PERMUTED, SLICED, STRIDED, TRANSPOSED, BROADCAST_FIRST};

    @ParameterizedTest(name = "{0} log={1}")
    @MethodSource("floatsAndFlag")
    void softmax(DType dt, boolean log) {
        for (int si = 0; si < SOFTMAX_SHAPES.length; si++) {
            long[] shape = SOFTMAX_SHAPES[si];
            long cols = shape[shape.length - 1];
            for (int k = 0; k < 2; k++) {
                Layout li = SOFTMAX_INPUTS[(2 * si + k) % SOFTMAX_INPUTS.length];
                Layout lo = out(si + k);
                Domain dom = k == 0 ? Domain.LOGITS : Domain.HUGE_LOGITS;
                try (Case c = newCase()) {
                    Pair x = c.input(dt, li, dom, shape);
                    Pair y = c.output(dt, lo, shape);
                    both(b -> b.softmax(x.on(b), y.on(b), log));
                    assertMatches(desc(log ? "logSoftmax" : "softmax", dt, shape, li, lo, dom), y,
                            tolerance(dt).forTerms(cols));
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} log={1}")
    @MethodSource("floatsAndFlag")
    void softmaxBackward(DType dt, boolean log) {
        for (int si = 0; si < SOFTMAX_SHAPES.length; si++) {
            long[] shape = SOFTMAX_SHAPES[si];
            long cols = shape[shape.length - 1];
            Layout ly = out(si);
            Layout ldy = INPUTS[si % INPUTS.length];
            Layout lo = out(si + 2);
            try (Case c = newCase()) {
                double[] yData = referenceSoftmax(dt, shape, log);
                Pair y = c.arrange(dt, ly, yData, shape);
                Pair dy = c.input(dt, ldy, Domain.ANY, shape);
                Pair dx = c.output(dt, lo, shape);
                both(b -> b.softmaxBackward(y.on(b), dy.on(b), dx.on(b), log));
                assertMatches(desc(log ? "logSoftmaxBackward" : "softmaxBackward", dt, shape, ly, ldy, lo), dx,
                        tolerance(dt).forTerms(cols));
            }
        }
    }

    /** Softmax (or log-softmax) of random logits, by the reference, as row-major values. */
    private double[] referenceSoftmax(DType dt, long[] shape, boolean log) {
        int n = Math.toIntExact(Views.numel(shape));
        View x = Views.fromDoubles(ref, dt, RandomData.doubles(rnd, Domain.LOGITS, n), shape);
        View y = Views.fromDoubles(ref, dt, new double[n], shape);
        try {
            ref.softmax(x, y, log);
            return Views.toDoubles(y);
        } finally {
            Views.release(x, y);
        }
    }

    // ---- fused: cross-entropy ----------------------------------------------------------------

    static Stream<Arguments> crossEntropyCases() {
        List<Arguments> l = new ArrayList<>();
        for (DType dt : FLOATS) {
            for (double eps : new double[] {0, 0.1, 0.35}) {
                for (long ignore : new long[] {-100, 1}) {
                    l.add(Arguments.of(dt, eps, ignore));
                }
            }
        }
        return l.stream();
    }

    private static final long[][] CE_SIZES = {{1, 1}, {7, 3}, {4, 2}, {33, 10}, {31, 33}, {64, 1000}, {5, 4099}};

    /** Labels in [0, C), with about a quarter replaced by {@code ignore} (or containing it, when in range). */
    private double[] labels(int n, long classes, long ignore) {
        double[] l = new double[n];
        for (int i = 0; i < n; i++) {
            l[i] = rnd.nextLong(classes);
            if (rnd.nextInt(4) == 0) {
                l[i] = ignore >= 0 && ignore >= classes ? l[i] : ignore;
            }
        }
        return l;
    }

    @ParameterizedTest(name = "{0} smoothing={1} ignoreIndex={2}")
    @MethodSource("crossEntropyCases")
    void softmaxCrossEntropy(DType dt, double eps, long ignore) {
        Layout[] logitLayouts = {CONTIGUOUS, TRANSPOSED, SLICED, BROADCAST_FIRST, STRIDED};
        for (int si = 0; si < CE_SIZES.length; si++) {
            long n = CE_SIZES[si][0];
            long cls = CE_SIZES[si][1];
            Layout ll = logitLayouts[si % logitLayouts.length];
            Layout llab = si % 2 == 0 ? CONTIGUOUS : STRIDED;
            Layout lloss = si % 3 == 0 ? STRIDED : CONTIGUOUS;
            Layout lprob = si % 2 == 0 ? CONTIGUOUS : TRANSPOSED;
            try (Case c = newCase()) {
                Pair logits = c.input(dt, ll, Domain.LOGITS, n, cls);
                Pair labels = c.arrange(DType.INT64, llab, labels((int) n, cls, ignore), n);
                Pair loss = c.output(dt, lloss, n);
                Pair probs = c.output(dt, lprob, n, cls);
                both(b -> b.softmaxCrossEntropy(logits.on(b), labels.on(b), loss.on(b), probs.on(b), ignore, eps));
                String what = desc("softmaxCrossEntropy eps " + eps + " ignore " + ignore, dt, dims(n, cls), ll, llab,
                        lloss, lprob);
                assertMatches(what + " loss", loss, tolerance(dt).forTerms(cls));
                assertMatches(what + " probs", probs, tolerance(dt));
            }
        }
    }

    @ParameterizedTest(name = "{0} smoothing={1} ignoreIndex={2}")
    @MethodSource("crossEntropyCases")
    void softmaxCrossEntropyBackward(DType dt, double eps, long ignore) {
        Layout[] dLossLayouts = {CONTIGUOUS, SCALAR, STRIDED};
        for (int si = 0; si < CE_SIZES.length; si++) {
            long n = CE_SIZES[si][0];
            long cls = CE_SIZES[si][1];
            Layout lp = si % 2 == 0 ? CONTIGUOUS : TRANSPOSED;
            Layout ld = dLossLayouts[si % dLossLayouts.length];
            Layout lo = out(si);
            try (Case c = newCase()) {
                Pair probs = c.arrange(dt, lp, referenceSoftmax(dt, dims(n, cls), false), n, cls);
                Pair labels = c.of(DType.INT64, labels((int) n, cls, ignore), n);
                Pair dLoss = c.input(dt, ld, Domain.ANY, n);
                Pair dLogits = c.output(dt, lo, n, cls);
                both(b -> b.softmaxCrossEntropyBackward(probs.on(b), labels.on(b), dLoss.on(b), dLogits.on(b), ignore,
                        eps));
                assertMatches(desc("softmaxCrossEntropyBackward eps " + eps + " ignore " + ignore, dt, dims(n, cls), lp,
                        ld, lo), dLogits, tolerance(dt));
            }
        }
    }

    // ---- fused: dropout ----------------------------------------------------------------------

    static Stream<Arguments> dropoutCases() {
        List<Arguments> l = new ArrayList<>();
        for (DType dt : FLOATS) {
            for (double p : new double[] {0, 0.2, 0.5, 1}) {
                l.add(Arguments.of(dt, p));
            }
        }
        return l.stream();
    }

    @ParameterizedTest(name = "{0} p={1}")
    @MethodSource("dropoutCases")
    void dropout(DType dt, double p) {
        long[][] shapes = {{1}, {7}, {33, 31}, {4099}, {2, 3, 7}};
        long[][] seedOffsets = {{0, 0}, {42, 17}, {-1, (1L << 32) - 5}};
        int k = 0;
        for (long[] shape : shapes) {
            for (long[] so : seedOffsets) {
                Layout lx = INPUTS[k % INPUTS.length];
                Layout lo = out(k);
                Layout lm = out(k + 1);
                k++;
                try (Case c = newCase()) {
                    Pair x = c.input(dt, lx, Domain.ANY, shape);
                    Pair y = c.output(dt, lo, shape);
                    Pair mask = c.output(dt, lm, shape);
                    both(b -> b.dropout(x.on(b), y.on(b), mask.on(b), p, so[0], so[1]));
                    String what = desc("dropout p " + p + " seed " + so[0] + " offset " + so[1], dt, shape, lx, lo, lm);
                    assertMatches(what + " mask", mask, tolerance(dt));
                    assertMatches(what + " out", y, tolerance(dt));
                }
            }
        }
    }

    // ---- fused: optimisers -------------------------------------------------------------------

    /** A parameter of the optimiser tests: shape, its layout and its gradient's layout. */
    record Param(long[] shape, Layout layout, Layout gradLayout) {
    }

    private static final Param[] PARAMS = {
        new Param(dims(1), CONTIGUOUS, CONTIGUOUS),
        new Param(dims(7, 31), CONTIGUOUS, TRANSPOSED),
        new Param(dims(33), CONTIGUOUS, STRIDED),
        new Param(dims(4099), CONTIGUOUS, CONTIGUOUS),
        new Param(dims(3, 17), SLICED, PERMUTED),
    };

    private static final int STEPS = 3;

    private List<Pair> params(Case c, DType dt) {
        List<Pair> l = new ArrayList<>();
        for (Param p : PARAMS) {
            l.add(c.input(dt, p.layout(), Domain.ANY, p.shape()));
        }
        return l;
    }

    private List<Pair> grads(Case c, DType dt) {
        List<Pair> l = new ArrayList<>();
        for (Param p : PARAMS) {
            l.add(c.input(dt, p.gradLayout(), Domain.ANY, p.shape()));
        }
        return l;
    }

    private List<Pair> zeros(Case c, DType dt, boolean wanted) {
        List<Pair> l = new ArrayList<>();
        if (wanted) {
            for (Param p : PARAMS) {
                l.add(c.of(dt, new double[Math.toIntExact(Views.numel(p.shape()))], p.shape()));
            }
        }
        return l;
    }

    private void assertAllMatch(String what, List<Pair> pairs, DType dt) {
        for (int i = 0; i < pairs.size(); i++) {
            assertMatches(what + "[" + i + "]", pairs.get(i), tolerance(dt));
        }
    }

    static Stream<Arguments> sgdCases() {
        List<Arguments> l = new ArrayList<>();
        for (DType dt : FLOATS) {
            for (double wd : new double[] {0, 0.01}) {
                l.add(Arguments.of(dt, 0.0, 0.0, false, wd));
                l.add(Arguments.of(dt, 0.9, 0.0, false, wd));
                l.add(Arguments.of(dt, 0.9, 0.25, false, wd));
                l.add(Arguments.of(dt, 0.9, 0.0, true, wd));
            }
        }
        return l.stream();
    }

    @ParameterizedTest(name = "{0} momentum={1} dampening={2} nesterov={3} wd={4}")
    @MethodSource("sgdCases")
    void sgdStep(DType dt, double momentum, double dampening, boolean nesterov, double wd) {
        try (Case c = newCase()) {
            List<Pair> params = params(c, dt);
            List<Pair> bufs = zeros(c, dt, momentum != 0);
            for (int step = 1; step <= STEPS; step++) {
                List<Pair> grads = grads(c, dt);
                FusedOps.SgdConfig cfg = new FusedOps.SgdConfig(0.1, momentum, dampening, nesterov, wd, step == 1);
                both(b -> b.sgdStep(on(b, params), on(b, grads), on(b, bufs), cfg));
                String what = "sgdStep " + dt + " " + cfg + " step " + step;
                assertAllMatch(what + " param", params, dt);
                assertAllMatch(what + " momentum", bufs, dt);
                assertAllMatch(what + " grad (must be unchanged)", grads, dt);
            }
        }
    }

    static Stream<Arguments> adamCases() {
        List<Arguments> l = new ArrayList<>();
        for (DType dt : FLOATS) {
            for (boolean decoupled : new boolean[] {false, true}) {
                for (double wd : new double[] {0, 0.1}) {
                    l.add(Arguments.of(dt, decoupled, wd, 0.9, 0.999));
                    l.add(Arguments.of(dt, decoupled, wd, 0.5, 0.8));
                }
            }
        }
        return l.stream();
    }

    @ParameterizedTest(name = "{0} decoupled={1} wd={2} betas=({3}, {4})")
    @MethodSource("adamCases")
    void adamStep(DType dt, boolean decoupled, double wd, double beta1, double beta2) {
        try (Case c = newCase()) {
            List<Pair> params = params(c, dt);
            List<Pair> m = zeros(c, dt, true);
            List<Pair> v = zeros(c, dt, true);
            for (int step = 1; step <= STEPS; step++) {
                List<Pair> grads = grads(c, dt);
                FusedOps.AdamConfig cfg = new FusedOps.AdamConfig(0.01, beta1, beta2, 1e-8, wd, decoupled, step);
                both(b -> b.adamStep(on(b, params), on(b, grads), on(b, m), on(b, v), cfg));
                String what = "adamStep " + dt + " " + cfg;
                assertAllMatch(what + " param", params, dt);
                assertAllMatch(what + " m", m, dt);
                assertAllMatch(what + " v", v, dt);
                assertAllMatch(what + " grad (must be unchanged)", grads, dt);
            }
        }
    }

    static Stream<Arguments> rmspropCases() {
        List<Arguments> l = new ArrayList<>();
        for (DType dt : FLOATS) {
            for (boolean centered : new boolean[] {false, true}) {
                for (double momentum : new double[] {0, 0.9}) {
                    for (double wd : new double[] {0, 0.1}) {
                        l.add(Arguments.of(dt, centered, momentum, wd));
                    }
                }
            }
        }
        return l.stream();
    }

    @ParameterizedTest(name = "{0} centered={1} momentum={2} wd={3}")
    @MethodSource("rmspropCases")
    void rmspropStep(DType dt, boolean centered, double momentum, double wd) {
        try (Case c = newCase()) {
            List<Pair> params = params(c, dt);
            List<Pair> sq = zeros(c, dt, true);
            List<Pair> buf = zeros(c, dt, momentum != 0);
            List<Pair> ga = zeros(c, dt, centered);
            for (int step = 1; step <= STEPS; step++) {
                List<Pair> grads = grads(c, dt);
                FusedOps.RmsPropConfig cfg = new FusedOps.RmsPropConfig(0.01, 0.99, 1e-8, wd, momentum, centered);
                both(b -> b.rmspropStep(on(b, params), on(b, grads), on(b, sq), on(b, buf), on(b, ga), cfg));
                String what = "rmspropStep " + dt + " " + cfg + " step " + step;
                assertAllMatch(what + " param", params, dt);
                assertAllMatch(what + " squareAvg", sq, dt);
                assertAllMatch(what + " momentumBuf", buf, dt);
                assertAllMatch(what + " gradAvg", ga, dt);
            }
        }
    }

    // ---- lifetimes ---------------------------------------------------------------------------

    /** Using a released storage is an {@link IllegalStateException} (never a crash); so is releasing it twice. */
    @Test
    void useAfterCloseIsIllegalState() {
        Storage s = dut.allocate(DType.FLOAT32, 16);
        View v = View.contiguous(s, 16);
        dut.fill(v, 1);
        s.release();
        View other = Views.fromDoubles(dut, DType.FLOAT32, new double[16], 16);
        try {
            assertThrows(IllegalStateException.class, () -> dut.fill(v, 2), "fill into a closed storage");
            assertThrows(IllegalStateException.class, () -> Views.toDoubles(v), "copyToHost from a closed storage");
            assertThrows(IllegalStateException.class, () -> dut.unary(UnaryOp.NEG, v, other), "unary reading a closed storage");
            assertThrows(IllegalStateException.class, () -> dut.unary(UnaryOp.NEG, other, v), "unary writing a closed storage");
            assertThrows(IllegalStateException.class, () -> dut.copy(other, v), "copy into a closed storage");
            assertThrows(IllegalStateException.class, s::retain, "retain of a closed storage");
            assertThrows(IllegalStateException.class, s::release, "second release");
        } finally {
            Views.release(other);
        }
    }

    /** Allocating and releasing reports live buffers and bytes; the pool returns to zero live. */
    @Test
    void allocationBookkeeping() {
        long before = dut.liveBuffers();
        Storage a = dut.allocate(DType.FLOAT32, 1000);
        Storage b = dut.allocate(DType.INT64, 7);
        try {
            assertEquals(before + 2, dut.liveBuffers(), "live buffers after two allocations");
            assertEquals(DType.INT64, b.dtype());
            assertEquals(7, b.elements());
            assertTrue(dut.liveBytes() >= 4000 + 56, "liveBytes covers what is live");
            assertTrue(dut.peakBytes() >= dut.liveBytes(), "peakBytes >= liveBytes");
        } finally {
            a.release();
            b.release();
        }
        assertEquals(before, dut.liveBuffers());
    }

    /** copyFromHost reads exactly numel values in the view's dtype from any host segment. */
    @Test
    void copyFromHeapSegment() {
        try (Case c = newCase()) {
            Pair y = c.output(DType.FLOAT64, STRIDED, 3, 5);
            double[] data = RandomData.doubles(rnd, Domain.ANY, 15);
            MemorySegment heap = MemorySegment.ofArray(data);
            both(b -> b.copyFromHost(heap, y.on(b)));
            assertMatches("copyFromHost from a heap segment", y, Tolerance.EXACT);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment host = arena.allocate(15 * 8, 8);
                dut.copyToHost(y.dut(), host);
                dut.synchronize();
                Tolerance.EXACT.assertClose("round trip", data, host.toArray(ValueLayout.JAVA_DOUBLE));
            }
        }
    }

    // ---- fused: convolution and pooling (NCHW) -------------------------------------------------

    /** Input layouts cycled through by the convolution cases (broadcast included: x may be expanded). */
    private static final Layout[] CONV_INPUTS = {CONTIGUOUS, SLICED, PERMUTED, STRIDED, TRANSPOSED, BROADCAST_FIRST};

    private static Layout convIn(int i) {
        return CONV_INPUTS[Math.floorMod(i, CONV_INPUTS.length)];
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void conv2d(DType dt) {
        for (int i = 0; i < ConvCases.CONV.size(); i++) {
            ConvCases.Conv cc = ConvCases.CONV.get(i);
            Layout lx = convIn(i);
            Layout lw = i % 2 == 0 ? CONTIGUOUS : PERMUTED;
            Layout lo = out(i);
            try (Case c = newCase()) {
                Pair x = c.input(dt, lx, Domain.ANY, cc.x());
                Pair w = c.input(dt, lw, Domain.ANY, cc.weight());
                Pair bias = cc.bias() ? c.input(dt, i % 3 == 0 ? STRIDED : CONTIGUOUS, Domain.ANY, cc.cout()) : null;
                Pair y = c.output(dt, lo, cc.out());
                both(b -> b.conv2d(x.on(b), w.on(b), bias == null ? null : bias.on(b), y.on(b), cc.p()));
                assertMatches(desc("conv2d " + cc, dt, cc.x(), lx, lw, lo), y, tolerance(dt).forTerms(cc.forwardTerms()));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void conv2dBackwardData(DType dt) {
        for (int i = 0; i < ConvCases.CONV.size(); i++) {
            ConvCases.Conv cc = ConvCases.CONV.get(i);
            Layout ldy = convIn(i + 1);
            Layout lw = i % 2 == 1 ? CONTIGUOUS : PERMUTED;
            Layout lo = out(i + 1);
            long terms = cc.cout() / cc.p().groups() * cc.kh() * cc.kw();
            try (Case c = newCase()) {
                Pair dy = c.input(dt, ldy, Domain.ANY, cc.out());
                Pair w = c.input(dt, lw, Domain.ANY, cc.weight());
                Pair dx = c.output(dt, lo, cc.x());
                both(b -> b.conv2dBackwardData(dy.on(b), w.on(b), dx.on(b), cc.p()));
                assertMatches(desc("conv2dBackwardData " + cc, dt, cc.x(), ldy, lw, lo), dx,
                        tolerance(dt).forTerms(terms));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void conv2dBackwardFilter(DType dt) {
        for (int i = 0; i < ConvCases.CONV.size(); i++) {
            ConvCases.Conv cc = ConvCases.CONV.get(i);
            Layout lx = convIn(i + 2);
            Layout ldy = convIn(i + 3);
            Layout lo = out(i + 2);
            long[] os = cc.out();
            long terms = os[0] * os[2] * os[3];
            try (Case c = newCase()) {
                Pair x = c.input(dt, lx, Domain.ANY, cc.x());
                Pair dy = c.input(dt, ldy, Domain.ANY, os);
                Pair dw = c.output(dt, lo, cc.weight());
                Pair db = cc.bias() ? c.output(dt, i % 2 == 0 ? CONTIGUOUS : STRIDED, cc.cout()) : null;
                both(b -> b.conv2dBackwardFilter(x.on(b), dy.on(b), dw.on(b), db == null ? null : db.on(b), cc.p()));
                String what = desc("conv2dBackwardFilter " + cc, dt, cc.x(), lx, ldy, lo);
                assertMatches(what + " dw", dw, tolerance(dt).forTerms(terms));
                if (db != null) {
                    assertMatches(what + " dBias", db, tolerance(dt).forTerms(terms));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void maxPool2d(DType dt) {
        for (int i = 0; i < ConvCases.MAX.size(); i++) {
            ConvCases.Pool pc = ConvCases.MAX.get(i);
            Layout lx = convIn(i);
            Layout lo = out(i);
            Domain dom = i % 2 == 0 ? Domain.ANY : Domain.HALVES; // HALVES: ties
            try (Case c = newCase()) {
                Pair x = c.input(dt, lx, dom, pc.x());
                Pair y = c.output(dt, lo, pc.out());
                both(b -> b.maxPool2d(x.on(b), y.on(b), pc.p()));
                assertMatches(desc("maxPool2d " + pc, dt, pc.x(), lx, lo, dom), y, Tolerance.EXACT);
            }
        }
    }

    /** With ties (HALVES): the gradient must go to the first maximum of each window on every backend. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void maxPool2dBackward(DType dt) {
        for (int i = 0; i < ConvCases.MAX.size(); i++) {
            ConvCases.Pool pc = ConvCases.MAX.get(i);
            Layout lx = convIn(i + 1);
            Layout ldy = convIn(i + 2);
            Layout lo = out(i);
            Domain dom = i % 2 == 1 ? Domain.ANY : Domain.HALVES;
            try (Case c = newCase()) {
                Pair x = c.input(dt, lx, dom, pc.x());
                Pair y = c.output(dt, CONTIGUOUS, pc.out());
                ref.maxPool2d(x.ref(), y.ref(), pc.p());
                Views.write(y.dut(), Views.toDoubles(y.ref())); // the reference's maxima, on both
                Pair dy = c.input(dt, ldy, Domain.ANY, pc.out());
                Pair dx = c.output(dt, lo, pc.x());
                both(b -> b.maxPool2dBackward(x.on(b), y.on(b), dy.on(b), dx.on(b), pc.p()));
                assertMatches(desc("maxPool2dBackward " + pc, dt, pc.x(), lx, ldy, lo, dom), dx,
                        tolerance(dt).forTerms((long) pc.p().kernelH() * pc.p().kernelW()));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void avgPool2d(DType dt) {
        for (int i = 0; i < ConvCases.AVG.size(); i++) {
            ConvCases.Pool pc = ConvCases.AVG.get(i);
            Layout lx = convIn(i);
            Layout lo = out(i);
            try (Case c = newCase()) {
                Pair x = c.input(dt, lx, Domain.ANY, pc.x());
                Pair y = c.output(dt, lo, pc.out());
                both(b -> b.avgPool2d(x.on(b), y.on(b), pc.p()));
                assertMatches(desc("avgPool2d " + pc, dt, pc.x(), lx, lo), y,
                        tolerance(dt).forTerms((long) pc.p().kernelH() * pc.p().kernelW()));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void avgPool2dBackward(DType dt) {
        for (int i = 0; i < ConvCases.AVG.size(); i++) {
            ConvCases.Pool pc = ConvCases.AVG.get(i);
            Layout ldy = convIn(i + 1);
            Layout lo = out(i + 1);
            try (Case c = newCase()) {
                Pair dy = c.input(dt, ldy, Domain.ANY, pc.out());
                Pair dx = c.output(dt, lo, pc.x());
                both(b -> b.avgPool2dBackward(dy.on(b), dx.on(b), pc.p()));
                assertMatches(desc("avgPool2dBackward " + pc, dt, pc.x(), ldy, lo), dx,
                        tolerance(dt).forTerms((long) pc.p().kernelH() * pc.p().kernelW()));
            }
        }
    }

    /** Shape errors name the op and the dimension, on every backend (the checks live in the SPI records). */
    @Test
    void convShapeErrorsNameTheDimension() {
        try (Case c = newCase()) {
            Pair x = c.input(DType.FLOAT32, CONTIGUOUS, Domain.ANY, 2, 3, 5, 5);
            Pair w = c.input(DType.FLOAT32, CONTIGUOUS, Domain.ANY, 4, 2, 3, 3);
            Pair y = c.output(DType.FLOAT32, CONTIGUOUS, 2, 4, 3, 3);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> dut.conv2d(x.dut(), w.dut(), null, y.dut(), FusedOps.Conv2dParams.defaults()));
            assertTrue(e.getMessage().contains("has 3 channels") && e.getMessage().contains("expects 2"), e.getMessage());
            Pair big = c.input(DType.FLOAT32, CONTIGUOUS, Domain.ANY, 4, 3, 7, 7);
            e = assertThrows(IllegalArgumentException.class,
                    () -> dut.conv2d(x.dut(), big.dut(), null, y.dut(), FusedOps.Conv2dParams.defaults()));
            assertTrue(e.getMessage().contains("height 5"), e.getMessage());
            Pair p = c.output(DType.FLOAT32, CONTIGUOUS, 2, 3, 1, 1);
            e = assertThrows(IllegalArgumentException.class, () -> dut.maxPool2d(x.dut(), p.dut(),
                    FusedOps.Pool2dParams.of(6, 6, 1, 1, 0, 0, 1, 1, false, true)));
            assertTrue(e.getMessage().contains("larger than the padded input height 5"), e.getMessage());
        }
    }

    // ---- fused: recurrent layers ---------------------------------------------------------------

    /** One recurrent call's operands on both backends (inputs uniform in [−1, 1], weights in ±1/sqrt(H)). */
    private final class RnnOperands {
        final RnnCases.Rnn rc;
        final Pair x;
        final Pair h0;
        final Pair c0;
        final List<Pair> w = new ArrayList<>();
        final Pair y;
        final Pair hN;
        final Pair cN;
        /** Each backend's own reserve (its size is the backend's business), released by {@link #close}. */
        final java.util.Map<Backend, View> reserve = new java.util.IdentityHashMap<>();

        RnnOperands(Case c, DType dt, RnnCases.Rnn rc) {
            this.rc = rc;
            FusedOps.RnnParams p = rc.p();
            x = uniform(c, dt, 1.0, rc.x());
            h0 = rc.h0() ? uniform(c, dt, 0.5, p.hiddenShape(rc.b())) : null;
            c0 = rc.c0() ? uniform(c, dt, 0.5, p.cellShape(rc.b())) : null;
            double bound = 1 / Math.sqrt(p.hiddenSize());
            for (long[] shape : p.weightShapes()) {
                w.add(uniform(c, dt, bound, shape));
            }
            y = c.output(dt, CONTIGUOUS, p.outputShape(rc.t(), rc.b()));
            hN = c.output(dt, CONTIGUOUS, p.hiddenShape(rc.b()));
            cN = p.mode() == FusedOps.RnnMode.LSTM ? c.output(dt, CONTIGUOUS, p.cellShape(rc.b())) : null;
            for (Backend b : new Backend[] {ref, dut}) {
                long n = b.rnnReserveSize(p, rc.t(), rc.b());
                reserve.put(b, n == 0 ? null : View.contiguous(b.allocate(dt, n), n));
            }
        }

        Pair uniform(Case c, DType dt, double bound, long... shape) {
            return c.arrange(dt, CONTIGUOUS, RandomData.uniform(rnd, Math.toIntExact(Views.numel(shape)), -bound, bound),
                    shape);
        }

        void forward(Backend b) {
            b.rnnForward(rc.p(), rc.lengths(), x.on(b), h0 == null ? null : h0.on(b), c0 == null ? null : c0.on(b),
                    on(b, w), y.on(b), hN.on(b), cN == null ? null : cN.on(b), reserve.get(b));
        }

        void close() {
            for (View v : reserve.values()) {
                if (v != null) {
                    v.storage().release();
                }
            }
        }
    }

    /** Forward of every {@link RnnCases} configuration: output and final states. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void rnnForward(DType dt) {
        for (RnnCases.Rnn rc : RnnCases.ALL) {
            try (Case c = newCase()) {
                RnnOperands o = new RnnOperands(c, dt, rc);
                try {
                    both(o::forward);
                    Tolerance tol = tolerance(dt).forTerms(rc.terms() * rc.t());
                    assertMatches("rnnForward " + rc + " " + dt + " y", o.y, tol);
                    assertMatches("rnnForward " + rc + " " + dt + " hN", o.hN, tol);
                    if (o.cN != null) {
                        assertMatches("rnnForward " + rc + " " + dt + " cN", o.cN, tol);
                    }
                } finally {
                    o.close();
                }
            }
        }
    }

    /**
     * Backward of every {@link RnnCases} configuration after a forward with a reserve: the gradients of
     * the input, the initial states (also when they were zeros) and every weight.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void rnnBackward(DType dt) {
        for (RnnCases.Rnn rc : RnnCases.ALL) {
            FusedOps.RnnParams p = rc.p();
            try (Case c = newCase()) {
                RnnOperands o = new RnnOperands(c, dt, rc);
                try {
                    both(o::forward);
                    Pair dy = o.uniform(c, dt, 1.0, p.outputShape(rc.t(), rc.b()));
                    Pair dhN = o.uniform(c, dt, 1.0, p.hiddenShape(rc.b()));
                    Pair dcN = o.cN == null ? null : o.uniform(c, dt, 1.0, p.cellShape(rc.b()));
                    Pair dx = c.output(dt, CONTIGUOUS, rc.x());
                    Pair dh0 = c.output(dt, CONTIGUOUS, p.hiddenShape(rc.b()));
                    Pair dc0 = o.cN == null ? null : c.output(dt, CONTIGUOUS, p.cellShape(rc.b()));
                    List<Pair> dw = new ArrayList<>();
                    for (long[] shape : p.weightShapes()) {
                        dw.add(c.output(dt, CONTIGUOUS, shape));
                    }
                    both(b -> b.rnnBackward(p, rc.lengths(), o.x.on(b), o.h0 == null ? null : o.h0.on(b),
                            o.c0 == null ? null : o.c0.on(b), on(b, o.w), o.y.on(b), o.reserve.get(b), dy.on(b),
                            dhN.on(b), dcN == null ? null : dcN.on(b), dx.on(b), dh0.on(b),
                            dc0 == null ? null : dc0.on(b), on(b, dw)));
                    // weight gradients sum over every step and sequence
                    Tolerance tol = tolerance(dt).forTerms(rc.terms() * rc.t() * rc.b());
                    String what = "rnnBackward " + rc + " " + dt;
                    assertMatches(what + " dx", dx, tol);
                    assertMatches(what + " dh0", dh0, tol);
                    if (dc0 != null) {
                        assertMatches(what + " dc0", dc0, tol);
                    }
                    List<String> names = p.weightNames();
                    for (int i = 0; i < dw.size(); i++) {
                        assertMatches(what + " d" + names.get(i), dw.get(i), tol);
                    }
                } finally {
                    o.close();
                }
            }
        }
    }

    /** Bad recurrent operands are rejected with the shapes named, on every backend. */
    @Test
    void rnnShapeErrorsNameTheShapes() {
        FusedOps.RnnParams p = new FusedOps.RnnParams(FusedOps.RnnMode.LSTM, 3, 4, 0, 1, false, true);
        try (Case c = newCase()) {
            Pair x = c.input(DType.FLOAT32, CONTIGUOUS, Domain.ANY, 5, 2, 3);
            Pair wrongX = c.input(DType.FLOAT32, CONTIGUOUS, Domain.ANY, 5, 2, 4);
            List<Pair> w = new ArrayList<>();
            for (long[] shape : p.weightShapes()) {
                w.add(c.input(DType.FLOAT32, CONTIGUOUS, Domain.ANY, shape));
            }
            Pair y = c.output(DType.FLOAT32, CONTIGUOUS, 5, 2, 4);
            Pair hN = c.output(DType.FLOAT32, CONTIGUOUS, 1, 2, 4);
            Pair cN = c.output(DType.FLOAT32, CONTIGUOUS, 1, 2, 4);
            Pair badH0 = c.input(DType.FLOAT32, CONTIGUOUS, Domain.ANY, 1, 3, 4);
            List<View> wv = on(dut, w);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> dut.rnnForward(p, null,
                    wrongX.dut(), null, null, wv, y.dut(), hN.dut(), cN.dut(), null));
            assertTrue(e.getMessage().contains("[5, 2, 4]") && e.getMessage().contains("input_size 3"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> dut.rnnForward(p, null, x.dut(), badH0.dut(), null,
                    wv, y.dut(), hN.dut(), cN.dut(), null));
            assertTrue(e.getMessage().contains("h0 has shape [1, 3, 4], expected [1, 2, 4]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> dut.rnnForward(p, new long[] {5, 5, 5}, x.dut(), null,
                    null, wv, y.dut(), hN.dut(), cN.dut(), null));
            assertTrue(e.getMessage().contains("lengths has 3 entries"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> dut.rnnForward(p, new long[] {5, 0}, x.dut(), null,
                    null, wv, y.dut(), hN.dut(), cN.dut(), null));
            assertTrue(e.getMessage().contains("lengths[1] = 0"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> dut.rnnForward(p, new long[] {6, 1}, x.dut(), null,
                    null, wv, y.dut(), hN.dut(), cN.dut(), null));
            assertTrue(e.getMessage().contains("lengths[0] = 6") && e.getMessage().contains("longer than T"),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> dut.rnnForward(p, null, x.dut(), null, null,
                    wv.subList(1, wv.size()), y.dut(), hN.dut(), cN.dut(), null));
            assertTrue(e.getMessage().contains("weight_ih_l0"), e.getMessage());
        }
    }
}
