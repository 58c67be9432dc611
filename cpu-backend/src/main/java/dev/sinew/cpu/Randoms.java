package dev.sinew.cpu;

import static dev.sinew.cpu.Arg.D;
import static dev.sinew.cpu.Arg.F;
import static dev.sinew.cpu.Arg.NO;

import dev.sinew.DType;
import dev.sinew.spi.Distribution;
import dev.sinew.spi.Philox;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Random fills and dropout from the counter-based {@link Philox} stream: element with row-major
 * index {@code i} uses counter {@code offset + i}, so the result does not depend on how the work is
 * split over threads, and equals {@link Philox#sample} bit for bit (same integer rounds, same double
 * operations, same {@link Math} functions).
 *
 * <p>UNIFORM, BERNOULLI and dropout run Philox4x32-10 in LongVector lanes (one counter per 64-bit lane;
 * the 32x32 -> 64-bit products are exact in a 64-bit multiply), NORMAL runs the scalar form
 * ({@link #sample}) because its log/cos must be {@link Math}'s. Stateless and thread-safe.
 */
final class Randoms {
    private static final VectorSpecies<Long> LS = LongVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    private static final int LL = LS.length();
    /** Float lanes matching LL double lanes (for storing converted samples). */
    private static final VectorSpecies<Float> FH = VectorSpecies.of(float.class, VectorShape.forBitSize(LL * 32));

    private static final int M0 = 0xD2511F53;
    private static final int M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;
    private static final long LOW = 0xFFFFFFFFL;
    private static final double TWO_POW_M53 = 0x1.0p-53;

    /** Counters per chunk below which a fill is not split (each costs ten Philox rounds). */
    private static final long GRAIN = 1L << 12;

    private Randoms() {
    }

    // ---- scalar Philox (allocation-free copy of dev.sinew.spi.Philox) -------------------------

    private static double unit(int hi, int lo) {
        long bits = ((hi & LOW) << 21) ^ ((lo & LOW) >>> 11);
        return (bits & ((1L << 53) - 1)) * TWO_POW_M53;
    }

    /** {@link Philox#sample}, without its per-call array. */
    static double sample(Distribution dist, double a, double b, long seed, long c) {
        int c0 = (int) c;
        int c1 = (int) (c >>> 32);
        int c2 = 0;
        int c3 = 0;
        int k0 = (int) seed;
        int k1 = (int) (seed >>> 32);
        for (int r = 0; r < 10; r++) {
            long p0 = (M0 & LOW) * (c0 & LOW);
            long p1 = (M1 & LOW) * (c2 & LOW);
            int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
            int n1 = (int) p1;
            int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
            int n3 = (int) p0;
            c0 = n0;
            c1 = n1;
            c2 = n2;
            c3 = n3;
            k0 += W0;
            k1 += W1;
        }
        return switch (dist) {
            case UNIFORM -> a + (b - a) * unit(c0, c1);
            case NORMAL -> {
                double u1 = 1.0 - unit(c0, c1);
                double u2 = unit(c2, c3);
                yield a + b * (Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2));
            }
            case BERNOULLI -> unit(c0, c1) < a ? 1.0 : 0.0;
        };
    }

    // ---- vector Philox -----------------------------------------------------------------------

    private static final LongVector IOTA = LongVector.zero(LS).addIndex(1);
    /** Counters per buffered batch of vector uniforms. */
    static final int BATCH = 32 * LL;

    /**
     * {@code out[j] = Philox.uniform(seed, c + j)} for {@code j < n} ({@code n} a multiple of the long
     * lane count): the Philox rounds with each 32-bit word in the low half of a 64-bit lane, then the
     * same 53-bit construction as {@link Philox#uniform}. Self-contained on purpose (no vector
     * parameters or results), so C2 always sees the species and keeps every op intrinsic.
     */
    static void uniforms(long seed, long c, double[] out, int n) {
        long k0Init = seed & LOW;
        long k1Init = (seed >>> 32) & LOW;
        for (int j = 0; j < n; j += LL) {
            LongVector ctr = IOTA.add(c + j);
            LongVector c0 = ctr.and(LOW);
            LongVector c1 = ctr.lanewise(VectorOperators.LSHR, 32);
            LongVector c2 = LongVector.zero(LS);
            LongVector c3 = c2;
            long k0 = k0Init;
            long k1 = k1Init;
            for (int r = 0; r < 10; r++) {
                LongVector p0 = c0.mul(M0 & LOW);
                LongVector p1 = c2.mul(M1 & LOW);
                LongVector n0 = p1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c1)
                        .lanewise(VectorOperators.XOR, k0);
                LongVector n2 = p0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c3)
                        .lanewise(VectorOperators.XOR, k1);
                c1 = p1.and(LOW);
                c3 = p0.and(LOW);
                c0 = n0;
                c2 = n2;
                k0 = (k0 + (W0 & LOW)) & LOW;
                k1 = (k1 + (W1 & LOW)) & LOW;
            }
            LongVector bits = c0.lanewise(VectorOperators.LSHL, 21)
                    .lanewise(VectorOperators.XOR, c1.lanewise(VectorOperators.LSHR, 11)).and((1L << 53) - 1);
            ((DoubleVector) bits.convert(VectorOperators.L2D, 0)).mul(TWO_POW_M53).intoArray(out, j);
        }
    }

    // ---- random fill -------------------------------------------------------------------------

    static void fill(Parallel par, Arg dst, Distribution dist, double a, double b, long seed, long offset) {
        Strided st = Strided.of(dst.shape(), dst.strides());
        long n = st.numel;
        if (n == 0) {
            return;
        }
        long io = st.innerStride(0);
        MemorySegment os = dst.seg();
        DType t = dst.dtype();
        boolean vector = dist != Distribution.NORMAL && t != DType.INT64 && LL == DS.length();
        int chunks = par.chunks(n, GRAIN);
        long[] base = {dst.offset()};
        par.run(chunks, ch -> {
            long from = Parallel.align(n, chunks, ch, 64);
            long to = Parallel.align(n, chunks, ch + 1, 64);
            long[] index = {from};
            double[] u = vector ? new double[BATCH] : null;
            st.forRange(base, from, to, (oo, x, y, z, len) -> {
                long i0 = index[0];
                long i = 0;
                if (vector && io == 1) {
                    while (len - i >= LL) {
                        int batch = (int) Math.min(BATCH, (len - i) / LL * LL);
                        uniforms(seed, offset + i0 + i, u, batch);
                        for (int j = 0; j < batch; j += LL) {
                            DoubleVector s = DoubleVector.fromArray(DS, u, j);
                            s = dist == Distribution.UNIFORM
                                    ? s.mul(b - a).add(a) // a + (b − a)·u, the same two roundings
                                    : DoubleVector.zero(DS).blend(1.0, s.compare(VectorOperators.LT, a));
                            if (t == DType.FLOAT64) {
                                s.intoMemorySegment(os, (oo + i + j) << 3, NO);
                            } else {
                                ((FloatVector) s.convertShape(VectorOperators.D2F, FH, 0))
                                        .intoMemorySegment(os, (oo + i + j) << 2, NO);
                            }
                        }
                        i += batch;
                    }
                }
                for (; i < len; i++) { // scalar reference (and tail)
                    Arg.set(os, t, oo + i * io, sample(dist, a, b, seed, offset + i0 + i));
                }
                index[0] = i0 + len;
            });
        });
    }

    // ---- dropout -----------------------------------------------------------------------------

    /**
     * {@code mask[i] = u_i < p ? 0 : 1/(1−p)} (stored in mask's dtype) and {@code out[i] = x[i]·mask[i]}
     * in x's dtype, with {@code u_i = Philox.uniform(seed, offset + i)}: the composed definition
     * (a BERNOULLI(p) draw selects the dropped elements) in one pass.
     */
    static void dropout(Parallel par, Arg x, Arg out, Arg mask, double p, long seed, long offset) {
        Strided st = Strided.of(x.shape(), x.strides(), out.strides(), mask.strides());
        long n = st.numel;
        if (n == 0) {
            return;
        }
        double scale = 1.0 / (1.0 - p);
        DType t = out.dtype();
        boolean f32 = x.dtype() == DType.FLOAT32 && t == DType.FLOAT32 && mask.dtype() == DType.FLOAT32;
        boolean f64 = x.dtype() == DType.FLOAT64 && t == DType.FLOAT64 && mask.dtype() == DType.FLOAT64;
        boolean vector = (f32 || f64) && LL == DS.length();
        long ix = st.innerStride(0);
        long io = st.innerStride(1);
        long im = st.innerStride(2);
        MemorySegment xs = x.seg();
        MemorySegment os = out.seg();
        MemorySegment ms = mask.seg();
        DType xt = x.dtype();
        DType mt = mask.dtype();
        int chunks = par.chunks(n, GRAIN);
        long[] base = {x.offset(), out.offset(), mask.offset()};
        double maskKept = f32 ? (float) scale : scale; // the mask value as stored, times x
        par.run(chunks, ch -> {
            long from = Parallel.align(n, chunks, ch, 64);
            long to = Parallel.align(n, chunks, ch + 1, 64);
            long[] index = {from};
            double[] u = vector ? new double[BATCH] : null;
            st.forRange(base, from, to, (ox, oo, om, w, len) -> {
                long i0 = index[0];
                long i = 0;
                if (vector && ix == 1 && io == 1 && im == 1) {
                    DoubleVector keep = DoubleVector.broadcast(DS, maskKept);
                    DoubleVector zero = DoubleVector.zero(DS);
                    while (len - i >= LL) {
                        int batch = (int) Math.min(BATCH, (len - i) / LL * LL);
                        uniforms(seed, offset + i0 + i, u, batch);
                        for (int j = 0; j < batch; j += LL) {
                            long e = i + j;
                            VectorMask<Double> dropped = DoubleVector.fromArray(DS, u, j).compare(VectorOperators.LT, p);
                            DoubleVector m = keep.blend(zero, dropped);
                            if (f32) {
                                FloatVector mf = (FloatVector) m.convertShape(VectorOperators.D2F, FH, 0);
                                FloatVector xv = FloatVector.fromMemorySegment(FH, xs, (ox + e) << 2, NO);
                                mf.intoMemorySegment(ms, (om + e) << 2, NO);
                                xv.mul(mf).intoMemorySegment(os, (oo + e) << 2, NO);
                            } else {
                                DoubleVector xv = DoubleVector.fromMemorySegment(DS, xs, (ox + e) << 3, NO);
                                m.intoMemorySegment(ms, (om + e) << 3, NO);
                                xv.mul(m).intoMemorySegment(os, (oo + e) << 3, NO);
                            }
                        }
                        i += batch;
                    }
                }
                for (; i < len; i++) { // scalar reference (and tail)
                    boolean drop = sample(Distribution.BERNOULLI, p, 0, seed, offset + i0 + i) != 0;
                    long mi = om + i * im;
                    Arg.set(ms, mt, mi, drop ? 0.0 : scale);
                    double mv = Arg.get(ms, mt, mi);
                    if (f32) {
                        os.set(F, (oo + i * io) << 2, xs.get(F, (ox + i * ix) << 2) * (float) mv);
                    } else if (f64) {
                        os.set(D, (oo + i * io) << 3, xs.get(D, (ox + i * ix) << 3) * mv);
                    } else {
                        Arg.set(os, t, oo + i * io, Arg.get(xs, xt, ox + i * ix) * mv);
                    }
                }
                index[0] = i0 + len;
            });
        });
    }
}
