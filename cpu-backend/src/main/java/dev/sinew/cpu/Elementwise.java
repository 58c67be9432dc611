package dev.sinew.cpu;

import static dev.sinew.cpu.Arg.D;
import static dev.sinew.cpu.Arg.F;
import static dev.sinew.cpu.Arg.I;
import static dev.sinew.cpu.Arg.L;
import static dev.sinew.cpu.Arg.NO;

import dev.sinew.DType;
import dev.sinew.spi.BinaryOp;
import dev.sinew.spi.UnaryOp;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Elementwise primitives: unary, binary, where, fill and copy/cast over strided operands.
 *
 * <p>Every op coalesces its operands with {@link Strided} and runs over innermost runs. A run whose
 * operands all have inner stride 1 (or 0 for a broadcast input: a scalar, or a row vector
 * {@code [1, N]} over {@code [M, N]}) takes the Vector API loop; anything else takes the scalar loop
 * beside it, which is also the definition the vector loop must agree with (the reference backend's:
 * evaluate in double, round once when stored). FLOAT32 vector loops evaluate in float, which differs
 * from that definition by an ulp or so for transcendental functions. Mixed dtypes, and INT64 ops that
 * are not exact in 64-bit arithmetic, take a generic scalar path that mirrors the reference exactly.
 *
 * <p>Large ops are split into chunks on 64-element boundaries over {@link Parallel}. Stateless and
 * thread-safe; in-place use (out exactly an input's view) is allowed, any other overlap is not.
 */
final class Elementwise {
    static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    static final int FL = FS.length();
    static final int DL = DS.length();

    /** Elements per chunk below which a cheap op is not worth splitting. */
    static final long GRAIN = 1L << 15;
    /** The same for transcendental ops (exp, log, tanh, sin, pow ...): about 10x the work per element. */
    static final long GRAIN_HEAVY = 1L << 12;

    private Elementwise() {
    }

    /** Runs {@code row} over every element of {@code st}, split into chunks when large. */
    static void drive(Parallel par, Strided st, long[] base, long grain, Strided.Row row) {
        long n = st.numel;
        if (n == 0) {
            return;
        }
        int chunks = par.chunks(n, grain);
        if (chunks == 1) {
            st.forRange(base, 0, n, row);
            return;
        }
        par.run(chunks, c -> st.forRange(base, Parallel.align(n, chunks, c, 64), Parallel.align(n, chunks, c + 1, 64),
                row));
    }

    // ==== unary ===================================================================================

    private static boolean heavy(UnaryOp op) {
        return switch (op) {
            case EXP, LOG, TANH, SIGMOID, SIN, COS -> true;
            default -> false;
        };
    }

    private static boolean exactOnLongs(UnaryOp op) {
        return switch (op) {
            case NEG, ABS, SIGN, SQUARE, RELU -> true;
            default -> false;
        };
    }

    /** The definition of each unary op (the reference backend's). */
    static double unaryScalar(UnaryOp op, double x) {
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

    static long unaryLong(UnaryOp op, long x) {
        return switch (op) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case SIGN -> Long.signum(x);
            case SQUARE -> x * x;
            case RELU -> Math.max(x, 0L);
            default -> (long) unaryScalar(op, x);
        };
    }



    static void unary(Parallel par, UnaryOp op, Arg x, Arg out) {
        Strided st = Strided.of(out.shape(), x.strides(), out.strides());
        long[] base = {x.offset(), out.offset()};
        long grain = heavy(op) ? GRAIN_HEAVY : GRAIN;
        MemorySegment xs = x.seg();
        MemorySegment os = out.seg();
        long ix = st.innerStride(0);
        long io = st.innerStride(1);
        DType t = out.dtype();
        if (x.dtype() == t && t == DType.FLOAT32) {
            drive(par, st, base, grain, (ox, oo, u, v, n) -> unaryF32(op, xs, ox, ix, os, oo, io, n));
        } else if (x.dtype() == t && t == DType.FLOAT64) {
            drive(par, st, base, grain, (ox, oo, u, v, n) -> unaryF64(op, xs, ox, ix, os, oo, io, n));
        } else {
            boolean exact = x.dtype() == DType.INT64 && t == DType.INT64 && exactOnLongs(op);
            DType xt = x.dtype();
            drive(par, st, base, grain, (ox, oo, u, v, n) -> {
                for (long i = 0; i < n; i++) {
                    if (exact) {
                        Arg.setLong(os, t, oo + i * io, unaryLong(op, Arg.getLong(xs, xt, ox + i * ix)));
                    } else {
                        Arg.set(os, t, oo + i * io, unaryScalar(op, Arg.get(xs, xt, ox + i * ix)));
                    }
                }
            });
        }
    }

    // [n] float run: out[i] = op(x[i])
    // [n] float run: out[i] = op(x[i]); the vector loop beside its scalar reference (unaryScalar)
    private static void unaryF32(UnaryOp op, MemorySegment xs, long ox, long ix, MemorySegment os, long oo, long io,
            long n) {
        if (ix == 1 && io == 1) {
            // one loop, the op switch inside it: every vector has a known species here, so C2 keeps each
            // case intrinsic (a helper taking FloatVector parameters, compiled on its own, would not be)
            long i = 0;
            long bound = FS.loopBound(n);
            for (; i < bound; i += FL) {
                FloatVector x = FloatVector.fromMemorySegment(FS, xs, (ox + i) << 2, NO);
                FloatVector r = switch (op) {
                    case NEG -> x.neg();
                    case ABS -> x.abs();
                    case SIGN -> x.blend(1f, x.compare(VectorOperators.GT, 0f)).blend(-1f, x.compare(VectorOperators.LT, 0f));
                    case EXP -> x.lanewise(VectorOperators.EXP);
                    case LOG -> x.lanewise(VectorOperators.LOG);
                    case SQRT -> x.sqrt();
                    case RSQRT -> FloatVector.broadcast(FS, 1f).div(x.sqrt());
                    case RECIPROCAL -> FloatVector.broadcast(FS, 1f).div(x);
                    case SQUARE -> x.mul(x);
                    case TANH -> x.lanewise(VectorOperators.TANH);
                    case SIGMOID -> { // stable on both sides: e = exp(−|x|); x >= 0 ? 1/(1+e) : e/(1+e)
                        FloatVector e = x.abs().neg().lanewise(VectorOperators.EXP);
                        FloatVector q = FloatVector.broadcast(FS, 1f).div(e.add(1f));
                        yield q.blend(e.mul(q), x.compare(VectorOperators.LT, 0f));
                    }
                    case RELU -> x.max(0f); // Math.max semantics: NaN kept, −0 -> +0
                    case SIN -> x.lanewise(VectorOperators.SIN);
                    case COS -> x.lanewise(VectorOperators.COS);
                };
                r.intoMemorySegment(os, (oo + i) << 2, NO);
            }
            for (; i < n; i++) {
                os.set(F, (oo + i) << 2, (float) unaryScalar(op, xs.get(F, (ox + i) << 2)));
            }
        } else if (ix == 0) {
            fillF32(os, oo, io, n, (float) unaryScalar(op, xs.get(F, ox << 2)));
        } else {
            for (long i = 0; i < n; i++) {
                os.set(F, (oo + i * io) << 2, (float) unaryScalar(op, xs.get(F, (ox + i * ix) << 2)));
            }
        }
    }

    private static void unaryF64(UnaryOp op, MemorySegment xs, long ox, long ix, MemorySegment os, long oo, long io,
            long n) {
        if (ix == 1 && io == 1) {
            // one loop, the op switch inside it: every vector has a known species here, so C2 keeps each
            // case intrinsic (a helper taking DoubleVector parameters, compiled on its own, would not be)
            long i = 0;
            long bound = DS.loopBound(n);
            for (; i < bound; i += DL) {
                DoubleVector x = DoubleVector.fromMemorySegment(DS, xs, (ox + i) << 3, NO);
                DoubleVector r = switch (op) {
                    case NEG -> x.neg();
                    case ABS -> x.abs();
                    case SIGN -> x.blend(1d, x.compare(VectorOperators.GT, 0d)).blend(-1d, x.compare(VectorOperators.LT, 0d));
                    case EXP -> x.lanewise(VectorOperators.EXP);
                    case LOG -> x.lanewise(VectorOperators.LOG);
                    case SQRT -> x.sqrt();
                    case RSQRT -> DoubleVector.broadcast(DS, 1d).div(x.sqrt());
                    case RECIPROCAL -> DoubleVector.broadcast(DS, 1d).div(x);
                    case SQUARE -> x.mul(x);
                    case TANH -> x.lanewise(VectorOperators.TANH);
                    case SIGMOID -> { // stable on both sides: e = exp(−|x|); x >= 0 ? 1/(1+e) : e/(1+e)
                        DoubleVector e = x.abs().neg().lanewise(VectorOperators.EXP);
                        DoubleVector q = DoubleVector.broadcast(DS, 1d).div(e.add(1d));
                        yield q.blend(e.mul(q), x.compare(VectorOperators.LT, 0d));
                    }
                    case RELU -> x.max(0d); // Math.max semantics: NaN kept, −0 -> +0
                    case SIN -> x.lanewise(VectorOperators.SIN);
                    case COS -> x.lanewise(VectorOperators.COS);
                };
                r.intoMemorySegment(os, (oo + i) << 3, NO);
            }
            for (; i < n; i++) {
                os.set(D, (oo + i) << 3, unaryScalar(op, xs.get(D, (ox + i) << 3)));
            }
        } else if (ix == 0) {
            fillF64(os, oo, io, n, unaryScalar(op, xs.get(D, ox << 3)));
        } else {
            for (long i = 0; i < n; i++) {
                os.set(D, (oo + i * io) << 3, unaryScalar(op, xs.get(D, (ox + i * ix) << 3)));
            }
        }
    }

    // ==== binary ==================================================================================

    /** The definition of each binary op (the reference backend's); comparisons give 1 or 0. */
    static double binaryScalar(BinaryOp op, double a, double b) {
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

    /** Exact 64-bit forms (DIV and POW go through double and truncate, as the reference). */
    static long binaryLong(BinaryOp op, long a, long b) {
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
            case DIV, POW -> (long) binaryScalar(op, a, b);
        };
    }



    static void binary(Parallel par, BinaryOp op, Arg a, Arg b, Arg out) {
        Strided st = Strided.of(out.shape(), a.strides(), b.strides(), out.strides());
        long[] base = {a.offset(), b.offset(), out.offset()};
        long grain = op == BinaryOp.POW ? GRAIN_HEAVY : GRAIN;
        MemorySegment as = a.seg();
        MemorySegment bs = b.seg();
        MemorySegment os = out.seg();
        long ia = st.innerStride(0);
        long ib = st.innerStride(1);
        long io = st.innerStride(2);
        DType t = out.dtype();
        if (a.dtype() == t && b.dtype() == t && t == DType.FLOAT32) {
            drive(par, st, base, grain, (oa, ob, oo, u, n) -> binaryF32(op, as, oa, ia, bs, ob, ib, os, oo, io, n));
        } else if (a.dtype() == t && b.dtype() == t && t == DType.FLOAT64) {
            drive(par, st, base, grain, (oa, ob, oo, u, n) -> binaryF64(op, as, oa, ia, bs, ob, ib, os, oo, io, n));
        } else {
            DType at = a.dtype();
            DType bt = b.dtype();
            boolean exact = at == DType.INT64 && bt == DType.INT64 && op != BinaryOp.DIV && op != BinaryOp.POW;
            drive(par, st, base, grain, (oa, ob, oo, u, n) -> {
                for (long i = 0; i < n; i++) {
                    if (exact) {
                        Arg.setLong(os, t, oo + i * io,
                                binaryLong(op, Arg.getLong(as, at, oa + i * ia), Arg.getLong(bs, bt, ob + i * ib)));
                    } else {
                        Arg.set(os, t, oo + i * io,
                                binaryScalar(op, Arg.get(as, at, oa + i * ia), Arg.get(bs, bt, ob + i * ib)));
                    }
                }
            });
        }
    }

    // [n] float run: out[i] = a[i] op b[i]; a or b may be broadcast (inner stride 0)
    private static void binaryF32(BinaryOp op, MemorySegment as, long oa, long ia, MemorySegment bs, long ob, long ib,
            MemorySegment os, long oo, long io, long n) {
        long i = 0;
        if (io == 1 && (ia | 1) == 1 && (ib | 1) == 1 && (ia | ib) == 1) {
            // contiguous, or one side broadcast (inner stride 0); the op switch sits inside the loop so
            // that every vector has a known species and C2 keeps each case intrinsic
            FloatVector ca = FloatVector.broadcast(FS, ia == 0 ? as.get(F, oa << 2) : 0);
            FloatVector cb = FloatVector.broadcast(FS, ib == 0 ? bs.get(F, ob << 2) : 0);
            FloatVector zero = FloatVector.zero(FS);
            long bound = FS.loopBound(n);
            for (; i < bound; i += FL) {
                FloatVector x = ia == 0 ? ca : FloatVector.fromMemorySegment(FS, as, (oa + i) << 2, NO);
                FloatVector y = ib == 0 ? cb : FloatVector.fromMemorySegment(FS, bs, (ob + i) << 2, NO);
                FloatVector r = switch (op) {
                    case ADD -> x.add(y);
                    case SUB -> x.sub(y);
                    case MUL -> x.mul(y);
                    case DIV -> x.div(y);
                    case MAX -> x.max(y);
                    case MIN -> x.min(y);
                    case POW -> x.lanewise(VectorOperators.POW, y);
                    case EQ -> zero.blend(1f, x.compare(VectorOperators.EQ, y));
                    case NE -> zero.blend(1f, x.compare(VectorOperators.NE, y));
                    case LT -> zero.blend(1f, x.compare(VectorOperators.LT, y));
                    case LE -> zero.blend(1f, x.compare(VectorOperators.LE, y));
                    case GT -> zero.blend(1f, x.compare(VectorOperators.GT, y));
                    case GE -> zero.blend(1f, x.compare(VectorOperators.GE, y));
                };
                r.intoMemorySegment(os, (oo + i) << 2, NO);
            }
        }
        for (; i < n; i++) { // scalar reference (and tail)
            float x = as.get(F, (oa + i * ia) << 2);
            float y = bs.get(F, (ob + i * ib) << 2);
            os.set(F, (oo + i * io) << 2, (float) binaryScalar(op, x, y));
        }
    }

    // [n] double run, as binaryF32
    private static void binaryF64(BinaryOp op, MemorySegment as, long oa, long ia, MemorySegment bs, long ob, long ib,
            MemorySegment os, long oo, long io, long n) {
        long i = 0;
        if (io == 1 && (ia | 1) == 1 && (ib | 1) == 1 && (ia | ib) == 1) {
            // contiguous, or one side broadcast (inner stride 0); the op switch sits inside the loop so
            // that every vector has a known species and C2 keeps each case intrinsic
            DoubleVector ca = DoubleVector.broadcast(DS, ia == 0 ? as.get(D, oa << 3) : 0);
            DoubleVector cb = DoubleVector.broadcast(DS, ib == 0 ? bs.get(D, ob << 3) : 0);
            DoubleVector zero = DoubleVector.zero(DS);
            long bound = DS.loopBound(n);
            for (; i < bound; i += DL) {
                DoubleVector x = ia == 0 ? ca : DoubleVector.fromMemorySegment(DS, as, (oa + i) << 3, NO);
                DoubleVector y = ib == 0 ? cb : DoubleVector.fromMemorySegment(DS, bs, (ob + i) << 3, NO);
                DoubleVector r = switch (op) {
                    case ADD -> x.add(y);
                    case SUB -> x.sub(y);
                    case MUL -> x.mul(y);
                    case DIV -> x.div(y);
                    case MAX -> x.max(y);
                    case MIN -> x.min(y);
                    case POW -> x.lanewise(VectorOperators.POW, y);
                    case EQ -> zero.blend(1d, x.compare(VectorOperators.EQ, y));
                    case NE -> zero.blend(1d, x.compare(VectorOperators.NE, y));
                    case LT -> zero.blend(1d, x.compare(VectorOperators.LT, y));
                    case LE -> zero.blend(1d, x.compare(VectorOperators.LE, y));
                    case GT -> zero.blend(1d, x.compare(VectorOperators.GT, y));
                    case GE -> zero.blend(1d, x.compare(VectorOperators.GE, y));
                };
                r.intoMemorySegment(os, (oo + i) << 3, NO);
            }
        }
        for (; i < n; i++) { // scalar reference (and tail)
            double x = as.get(D, (oa + i * ia) << 3);
            double y = bs.get(D, (ob + i * ib) << 3);
            os.set(D, (oo + i * io) << 3, binaryScalar(op, x, y));
        }
    }

    // ==== where ===================================================================================

    static void where(Parallel par, Arg cond, Arg a, Arg b, Arg out) {
        Strided st = Strided.of(out.shape(), cond.strides(), a.strides(), b.strides(), out.strides());
        long[] base = {cond.offset(), a.offset(), b.offset(), out.offset()};
        MemorySegment cs = cond.seg();
        MemorySegment as = a.seg();
        MemorySegment bs = b.seg();
        MemorySegment os = out.seg();
        long ic = st.innerStride(0);
        long ia = st.innerStride(1);
        long ib = st.innerStride(2);
        long io = st.innerStride(3);
        DType ct = cond.dtype();
        DType at = a.dtype();
        DType bt = b.dtype();
        DType t = out.dtype();
        if (ct == DType.FLOAT32 && at == t && bt == t && t == DType.FLOAT32) {
            drive(par, st, base, GRAIN, (oc, oa, ob, oo, n) -> {
                long i = 0;
                if (ic == 1 && ia == 1 && ib == 1 && io == 1) {
                    long bound = FS.loopBound(n);
                    for (; i < bound; i += FL) {
                        VectorMask<Float> m = FloatVector.fromMemorySegment(FS, cs, (oc + i) << 2, NO)
                                .compare(VectorOperators.NE, 0f); // NaN != 0 is true
                        FloatVector y = FloatVector.fromMemorySegment(FS, bs, (ob + i) << 2, NO);
                        FloatVector x = FloatVector.fromMemorySegment(FS, as, (oa + i) << 2, NO);
                        y.blend(x, m).intoMemorySegment(os, (oo + i) << 2, NO);
                    }
                }
                for (; i < n; i++) {
                    float c = cs.get(F, (oc + i * ic) << 2);
                    os.set(F, (oo + i * io) << 2, c != 0 ? as.get(F, (oa + i * ia) << 2) : bs.get(F, (ob + i * ib) << 2));
                }
            });
            return;
        }
        boolean integer = at == DType.INT64 && bt == DType.INT64;
        drive(par, st, base, GRAIN, (oc, oa, ob, oo, n) -> {
            for (long i = 0; i < n; i++) {
                boolean c = Arg.get(cs, ct, oc + i * ic) != 0;
                long o = oo + i * io;
                if (integer) {
                    Arg.setLong(os, t, o, c ? Arg.getLong(as, at, oa + i * ia) : Arg.getLong(bs, bt, ob + i * ib));
                } else {
                    Arg.set(os, t, o, c ? Arg.get(as, at, oa + i * ia) : Arg.get(bs, bt, ob + i * ib));
                }
            }
        });
    }

    // ==== fill ====================================================================================

    static void fill(Parallel par, Arg out, double value) {
        Strided st = Strided.of(out.shape(), out.strides());
        long[] base = {out.offset()};
        MemorySegment os = out.seg();
        long io = st.innerStride(0);
        switch (out.dtype()) {
            case FLOAT32 -> {
                float v = (float) value;
                drive(par, st, base, GRAIN, (oo, u, w, z, n) -> fillF32(os, oo, io, n, v));
            }
            case FLOAT64 -> drive(par, st, base, GRAIN, (oo, u, w, z, n) -> fillF64(os, oo, io, n, value));
            case INT64 -> {
                long v = (long) value;
                drive(par, st, base, GRAIN, (oo, u, w, z, n) -> {
                    for (long i = 0; i < n; i++) {
                        os.set(L, (oo + i * io) << 3, v);
                    }
                });
            }
        }
    }

    static void fillF32(MemorySegment os, long oo, long io, long n, float v) {
        long i = 0;
        if (io == 1) {
            FloatVector b = FloatVector.broadcast(FS, v);
            long bound = FS.loopBound(n);
            for (; i < bound; i += FL) {
                b.intoMemorySegment(os, (oo + i) << 2, NO);
            }
        }
        for (; i < n; i++) {
            os.set(F, (oo + i * io) << 2, v);
        }
    }

    static void fillF64(MemorySegment os, long oo, long io, long n, double v) {
        long i = 0;
        if (io == 1) {
            DoubleVector b = DoubleVector.broadcast(DS, v);
            long bound = DS.loopBound(n);
            for (; i < bound; i += DL) {
                b.intoMemorySegment(os, (oo + i) << 3, NO);
            }
        }
        for (; i < n; i++) {
            os.set(D, (oo + i * io) << 3, v);
        }
    }

    // ==== copy / cast =============================================================================

    /**
     * {@code dst = (dst dtype) src}. Same dtype copies bits (bulk {@link MemorySegment#copy} for runs
     * contiguous on both sides; a 2-D transpose is tiled); conversions are Java casts, as the reference.
     */
    static void copy(Parallel par, Arg src, Arg dst) {
        Strided st = Strided.of(dst.shape(), src.strides(), dst.strides());
        long[] base = {src.offset(), dst.offset()};
        MemorySegment ss = src.seg();
        MemorySegment ds = dst.seg();
        long is = st.innerStride(0);
        long id = st.innerStride(1);
        DType from = src.dtype();
        DType to = dst.dtype();
        if (from == to) {
            int shift = from == DType.FLOAT32 ? 2 : 3;
            if (st.rank == 2 && id == 1 && is != 1 && st.strides[0][0] == 1 && st.numel >= 256) {
                transposeCopy(par, st, base, ss, ds, shift);
                return;
            }
            drive(par, st, base, GRAIN, (os, od, u, w, n) -> {
                if (is == 1 && id == 1) {
                    MemorySegment.copy(ss, os << shift, ds, od << shift, n << shift);
                } else if (shift == 2) {
                    for (long i = 0; i < n; i++) {
                        ds.set(I, (od + i * id) << 2, ss.get(I, (os + i * is) << 2));
                    }
                } else {
                    for (long i = 0; i < n; i++) {
                        ds.set(L, (od + i * id) << 3, ss.get(L, (os + i * is) << 3));
                    }
                }
            });
            return;
        }
        drive(par, st, base, GRAIN, (os, od, u, w, n) -> {
            for (long i = 0; i < n; i++) {
                long s = os + i * is;
                long d = od + i * id;
                switch (to) {
                    case FLOAT32 -> ds.set(F, d << 2, from == DType.INT64 ? (float) ss.get(L, s << 3)
                            : (float) ss.get(D, s << 3));
                    case FLOAT64 -> ds.set(D, d << 3, from == DType.INT64 ? (double) ss.get(L, s << 3)
                            : (double) ss.get(F, s << 2));
                    case INT64 -> ds.set(L, d << 3, from == DType.FLOAT32 ? (long) ss.get(F, s << 2)
                            : (long) ss.get(D, s << 3));
                }
            }
        });
    }

    /**
     * A 2-D transpose {@code dst[r, c] = src[r·1 + c·s]} (dst rows contiguous, src columns
     * contiguous): 8 x 8 register transposes ({@link Transpose}) over bands of 16 rows, the ragged
     * edges element by element; chunks are bands of dst rows.
     */
    private static void transposeCopy(Parallel par, Strided st, long[] base, MemorySegment ss, MemorySegment ds,
            int shift) {
        long rows = st.shape[0];
        long cols = st.shape[1];
        long scs = st.strides[0][1];
        long drs = st.strides[1][0];
        boolean vector = shift == 2 ? Transpose.INTS : Transpose.LONGS;
        long band = 16;
        long bands = (rows + band - 1) / band;
        int parts = (int) Math.min(par.chunks(st.numel, GRAIN), bands);
        par.run(parts, p -> {
            long r0 = Parallel.align(bands, parts, p, 1) * band;
            long r1 = Math.min(rows, Parallel.align(bands, parts, p + 1, 1) * band);
            for (long rb = r0; rb < r1; rb += band) {
                long re = Math.min(r1, rb + band);
                long rv = vector ? rb + (re - rb) / 8 * 8 : rb; // rows [rb, rv) go through 8 x 8 blocks
                long cv = vector ? cols / 8 * 8 : 0;
                // per 8-row block, 8 source columns at a time: each destination row gets its 64-byte
                // lines written whole and in order (cheap even when the destination is not in cache),
                // and the source lines' other halves are used by the next block while still in L2
                for (long r = rb; r < rv; r += 8) {
                    for (long c = 0; c < cv; c += 8) {
                        long so = base[0] + r + c * scs;
                        long dO = base[1] + r * drs + c;
                        if (shift == 2) {
                            Transpose.ints(ss, so, scs, ds, dO, drs);
                        } else {
                            Transpose.longs(ss, so, scs, ds, dO, drs);
                        }
                    }
                }
                for (long r = rb; r < re; r++) { // scalar reference: the ragged right edge and bottom rows
                    long s0 = base[0] + r;
                    long d0 = base[1] + r * drs;
                    for (long c = r < rv ? cv : 0; c < cols; c++) {
                        if (shift == 2) {
                            ds.set(I, (d0 + c) << 2, ss.get(I, (s0 + c * scs) << 2));
                        } else {
                            ds.set(L, (d0 + c) << 3, ss.get(L, (s0 + c * scs) << 3));
                        }
                    }
                }
            }
        });
    }
}
