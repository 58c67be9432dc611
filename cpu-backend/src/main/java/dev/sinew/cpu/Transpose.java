package dev.sinew.cpu;

import static dev.sinew.cpu.Arg.NO;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * 8 x 8 in-register transposes: eight rows of eight values are loaded as vectors, three stages of
 * two-source rearranges swap 4 x 4, 2 x 2 and 1 x 1 blocks across the diagonal, and the eight columns
 * are stored as rows. Used to pack row-major A and transposed B panels for {@link Sgemm} (floats into a
 * heap panel) and for transposing copies (4-byte values in int lanes, 8-byte values in long lanes,
 * so every bit pattern, NaN payloads included, is copied exactly).
 *
 * <p>Each kernel is kept small on purpose: a Vector API method too big for C1 to compile never
 * reaches C2 and then runs interpreted, orders of magnitude slower. The 4-byte forms need 256-bit
 * vectors and the 8-byte form 512-bit ones; {@link #FLOATS}, {@link #INTS} and {@link #LONGS} say
 * whether this machine has them natively (callers fall back to scalar loops otherwise). Stateless.
 */
final class Transpose {
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    private static final VectorSpecies<Long> L8 = LongVector.SPECIES_512;

    /** Whether 8-lane float and int vectors are native here. */
    static final boolean FLOATS = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256;
    static final boolean INTS = FLOATS;
    /** Whether 8-lane long vectors are native here. */
    static final boolean LONGS = LongVector.SPECIES_PREFERRED.vectorBitSize() >= 512;

    private static final VectorShuffle<Float> F_LO1 = FLOATS ? shuffle(F8, 4, false) : null;
    private static final VectorShuffle<Float> F_HI1 = FLOATS ? shuffle(F8, 4, true) : null;
    private static final VectorShuffle<Float> F_LO2 = FLOATS ? shuffle(F8, 2, false) : null;
    private static final VectorShuffle<Float> F_HI2 = FLOATS ? shuffle(F8, 2, true) : null;
    private static final VectorShuffle<Float> F_LO3 = FLOATS ? shuffle(F8, 1, false) : null;
    private static final VectorShuffle<Float> F_HI3 = FLOATS ? shuffle(F8, 1, true) : null;
    private static final VectorShuffle<Integer> I_LO1 = INTS ? shuffle(I8, 4, false) : null;
    private static final VectorShuffle<Integer> I_HI1 = INTS ? shuffle(I8, 4, true) : null;
    private static final VectorShuffle<Integer> I_LO2 = INTS ? shuffle(I8, 2, false) : null;
    private static final VectorShuffle<Integer> I_HI2 = INTS ? shuffle(I8, 2, true) : null;
    private static final VectorShuffle<Integer> I_LO3 = INTS ? shuffle(I8, 1, false) : null;
    private static final VectorShuffle<Integer> I_HI3 = INTS ? shuffle(I8, 1, true) : null;
    private static final VectorShuffle<Long> L_LO1 = LONGS ? shuffle(L8, 4, false) : null;
    private static final VectorShuffle<Long> L_HI1 = LONGS ? shuffle(L8, 4, true) : null;
    private static final VectorShuffle<Long> L_LO2 = LONGS ? shuffle(L8, 2, false) : null;
    private static final VectorShuffle<Long> L_HI2 = LONGS ? shuffle(L8, 2, true) : null;
    private static final VectorShuffle<Long> L_LO3 = LONGS ? shuffle(L8, 1, false) : null;
    private static final VectorShuffle<Long> L_HI3 = LONGS ? shuffle(L8, 1, true) : null;

    private Transpose() {
    }

    /**
     * The shuffle for the stage with block size d: lane l takes lane l (or l + d for the high output)
     * of the first vector where bit d of l is clear, else a lane of the second vector (exceptional,
     * negative indexes select the second source of a two-vector rearrange).
     */
    private static <E> VectorShuffle<E> shuffle(VectorSpecies<E> s, int d, boolean high) {
        int[] idx = new int[8];
        for (int l = 0; l < 8; l++) {
            if ((l & d) == 0) {
                idx[l] = high ? l + d : l;
            } else {
                idx[l] = high ? l - 8 : l - d - 8;
            }
        }
        return VectorShuffle.fromArray(s, idx, 0);
    }

    /** Scalar form of every kernel here: {@code out[t][q] = in[q][t]} for an 8 x 8 block. */
    static void scalar(float[] in, int inStride, float[] out, int outStride) {
        for (int q = 0; q < 8; q++) {
            for (int t = 0; t < 8; t++) {
                out[t * outStride + q] = in[q * inStride + t];
            }
        }
    }

    /**
     * Floats: input row q (q < 8) is the 8 values at element {@code off + q·ld} of {@code seg}; output
     * row t (input column t) goes to {@code dst[d0 + t·stride .. + 8]}.
     */
    static void floats(MemorySegment seg, long off, long ld, float[] dst, int d0, int stride) {
        VectorShuffle<Float> lo1 = F_LO1;
        VectorShuffle<Float> hi1 = F_HI1;
        VectorShuffle<Float> lo2 = F_LO2;
        VectorShuffle<Float> hi2 = F_HI2;
        VectorShuffle<Float> lo3 = F_LO3;
        VectorShuffle<Float> hi3 = F_HI3;
        long b = off << 2;
        long l = ld << 2;
        FloatVector m0 = FloatVector.fromMemorySegment(F8, seg, b, NO);
        FloatVector m1 = FloatVector.fromMemorySegment(F8, seg, b + 1 * l, NO);
        FloatVector m2 = FloatVector.fromMemorySegment(F8, seg, b + 2 * l, NO);
        FloatVector m3 = FloatVector.fromMemorySegment(F8, seg, b + 3 * l, NO);
        FloatVector m4 = FloatVector.fromMemorySegment(F8, seg, b + 4 * l, NO);
        FloatVector m5 = FloatVector.fromMemorySegment(F8, seg, b + 5 * l, NO);
        FloatVector m6 = FloatVector.fromMemorySegment(F8, seg, b + 6 * l, NO);
        FloatVector m7 = FloatVector.fromMemorySegment(F8, seg, b + 7 * l, NO);
        FloatVector t0 = m0.rearrange(lo1, m4); // 4 x 4 blocks
        FloatVector t4 = m0.rearrange(hi1, m4);
        FloatVector t1 = m1.rearrange(lo1, m5);
        FloatVector t5 = m1.rearrange(hi1, m5);
        FloatVector t2 = m2.rearrange(lo1, m6);
        FloatVector t6 = m2.rearrange(hi1, m6);
        FloatVector t3 = m3.rearrange(lo1, m7);
        FloatVector t7 = m3.rearrange(hi1, m7);
        m0 = t0.rearrange(lo2, t2); // 2 x 2 blocks
        m2 = t0.rearrange(hi2, t2);
        m1 = t1.rearrange(lo2, t3);
        m3 = t1.rearrange(hi2, t3);
        m4 = t4.rearrange(lo2, t6);
        m6 = t4.rearrange(hi2, t6);
        m5 = t5.rearrange(lo2, t7);
        m7 = t5.rearrange(hi2, t7);
        m0.rearrange(lo3, m1).intoArray(dst, d0); // single elements
        m0.rearrange(hi3, m1).intoArray(dst, d0 + stride);
        m2.rearrange(lo3, m3).intoArray(dst, d0 + 2 * stride);
        m2.rearrange(hi3, m3).intoArray(dst, d0 + 3 * stride);
        m4.rearrange(lo3, m5).intoArray(dst, d0 + 4 * stride);
        m4.rearrange(hi3, m5).intoArray(dst, d0 + 5 * stride);
        m6.rearrange(lo3, m7).intoArray(dst, d0 + 6 * stride);
        m6.rearrange(hi3, m7).intoArray(dst, d0 + 7 * stride);
    }

    /**
     * 4-byte values, segment to segment: input row q at element {@code so + q·sld} of {@code src},
     * output row t at element {@code dO + t·dld} of {@code dst}.
     */
    static void ints(MemorySegment src, long so, long sld, MemorySegment dst, long dO, long dld) {
        VectorShuffle<Integer> lo1 = I_LO1;
        VectorShuffle<Integer> hi1 = I_HI1;
        VectorShuffle<Integer> lo2 = I_LO2;
        VectorShuffle<Integer> hi2 = I_HI2;
        VectorShuffle<Integer> lo3 = I_LO3;
        VectorShuffle<Integer> hi3 = I_HI3;
        long b = so << 2;
        long l = sld << 2;
        long d = dO << 2;
        long dl = dld << 2;
        IntVector m0 = IntVector.fromMemorySegment(I8, src, b, NO);
        IntVector m1 = IntVector.fromMemorySegment(I8, src, b + 1 * l, NO);
        IntVector m2 = IntVector.fromMemorySegment(I8, src, b + 2 * l, NO);
        IntVector m3 = IntVector.fromMemorySegment(I8, src, b + 3 * l, NO);
        IntVector m4 = IntVector.fromMemorySegment(I8, src, b + 4 * l, NO);
        IntVector m5 = IntVector.fromMemorySegment(I8, src, b + 5 * l, NO);
        IntVector m6 = IntVector.fromMemorySegment(I8, src, b + 6 * l, NO);
        IntVector m7 = IntVector.fromMemorySegment(I8, src, b + 7 * l, NO);
        IntVector t0 = m0.rearrange(lo1, m4); // 4 x 4 blocks
        IntVector t4 = m0.rearrange(hi1, m4);
        IntVector t1 = m1.rearrange(lo1, m5);
        IntVector t5 = m1.rearrange(hi1, m5);
        IntVector t2 = m2.rearrange(lo1, m6);
        IntVector t6 = m2.rearrange(hi1, m6);
        IntVector t3 = m3.rearrange(lo1, m7);
        IntVector t7 = m3.rearrange(hi1, m7);
        m0 = t0.rearrange(lo2, t2); // 2 x 2 blocks
        m2 = t0.rearrange(hi2, t2);
        m1 = t1.rearrange(lo2, t3);
        m3 = t1.rearrange(hi2, t3);
        m4 = t4.rearrange(lo2, t6);
        m6 = t4.rearrange(hi2, t6);
        m5 = t5.rearrange(lo2, t7);
        m7 = t5.rearrange(hi2, t7);
        m0.rearrange(lo3, m1).intoMemorySegment(dst, d, NO); // single elements
        m0.rearrange(hi3, m1).intoMemorySegment(dst, d + dl, NO);
        m2.rearrange(lo3, m3).intoMemorySegment(dst, d + 2 * dl, NO);
        m2.rearrange(hi3, m3).intoMemorySegment(dst, d + 3 * dl, NO);
        m4.rearrange(lo3, m5).intoMemorySegment(dst, d + 4 * dl, NO);
        m4.rearrange(hi3, m5).intoMemorySegment(dst, d + 5 * dl, NO);
        m6.rearrange(lo3, m7).intoMemorySegment(dst, d + 6 * dl, NO);
        m6.rearrange(hi3, m7).intoMemorySegment(dst, d + 7 * dl, NO);
    }

    /** 8-byte values, segment to segment, as {@link #ints}. */
    static void longs(MemorySegment src, long so, long sld, MemorySegment dst, long dO, long dld) {
        VectorShuffle<Long> lo1 = L_LO1;
        VectorShuffle<Long> hi1 = L_HI1;
        VectorShuffle<Long> lo2 = L_LO2;
        VectorShuffle<Long> hi2 = L_HI2;
        VectorShuffle<Long> lo3 = L_LO3;
        VectorShuffle<Long> hi3 = L_HI3;
        long b = so << 3;
        long l = sld << 3;
        long d = dO << 3;
        long dl = dld << 3;
        LongVector m0 = LongVector.fromMemorySegment(L8, src, b, NO);
        LongVector m1 = LongVector.fromMemorySegment(L8, src, b + 1 * l, NO);
        LongVector m2 = LongVector.fromMemorySegment(L8, src, b + 2 * l, NO);
        LongVector m3 = LongVector.fromMemorySegment(L8, src, b + 3 * l, NO);
        LongVector m4 = LongVector.fromMemorySegment(L8, src, b + 4 * l, NO);
        LongVector m5 = LongVector.fromMemorySegment(L8, src, b + 5 * l, NO);
        LongVector m6 = LongVector.fromMemorySegment(L8, src, b + 6 * l, NO);
        LongVector m7 = LongVector.fromMemorySegment(L8, src, b + 7 * l, NO);
        LongVector t0 = m0.rearrange(lo1, m4); // 4 x 4 blocks
        LongVector t4 = m0.rearrange(hi1, m4);
        LongVector t1 = m1.rearrange(lo1, m5);
        LongVector t5 = m1.rearrange(hi1, m5);
        LongVector t2 = m2.rearrange(lo1, m6);
        LongVector t6 = m2.rearrange(hi1, m6);
        LongVector t3 = m3.rearrange(lo1, m7);
        LongVector t7 = m3.rearrange(hi1, m7);
        m0 = t0.rearrange(lo2, t2); // 2 x 2 blocks
        m2 = t0.rearrange(hi2, t2);
        m1 = t1.rearrange(lo2, t3);
        m3 = t1.rearrange(hi2, t3);
        m4 = t4.rearrange(lo2, t6);
        m6 = t4.rearrange(hi2, t6);
        m5 = t5.rearrange(lo2, t7);
        m7 = t5.rearrange(hi2, t7);
        m0.rearrange(lo3, m1).intoMemorySegment(dst, d, NO); // single elements
        m0.rearrange(hi3, m1).intoMemorySegment(dst, d + dl, NO);
        m2.rearrange(lo3, m3).intoMemorySegment(dst, d + 2 * dl, NO);
        m2.rearrange(hi3, m3).intoMemorySegment(dst, d + 3 * dl, NO);
        m4.rearrange(lo3, m5).intoMemorySegment(dst, d + 4 * dl, NO);
        m4.rearrange(hi3, m5).intoMemorySegment(dst, d + 5 * dl, NO);
        m6.rearrange(lo3, m7).intoMemorySegment(dst, d + 6 * dl, NO);
        m6.rearrange(hi3, m7).intoMemorySegment(dst, d + 7 * dl, NO);
    }
}
