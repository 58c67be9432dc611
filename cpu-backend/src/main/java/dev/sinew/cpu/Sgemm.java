package dev.sinew.cpu;

import static dev.sinew.cpu.Arg.F;
import static dev.sinew.cpu.Arg.NO;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentLinkedQueue;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * FLOAT32 matrix multiply {@code C[M, N] = A[M, K] · B[K, N]} (batched by the caller), GotoBLAS/BLIS
 * style: B is packed in {@code [KC, NC]} blocks of NR-column panels, A in {@code [MC, KC]} blocks of
 * MR-row panels, and a register-blocked micro-kernel ({@link #kernel}: MR = 8 rows x NR = 2 vectors,
 * 16 fma accumulators; 8 x 32 with AVX-512) computes each MR x NR tile from the two panels. Edges are
 * zero-padded in the panels and clipped when the tile is stored.
 *
 * <p>Any operand strides are accepted; packing reads each layout in its natural order: row-major A
 * ({@code [·, K, 1]}) and transposed B ({@code [·, 1, K]}) through 8 x 8 in-register transposes
 * ({@link Transpose#floats}), transposed A by contiguous runs of MR, row-major B by vector copies,
 * anything else element by element. C may have any strides too (a non-unit column stride is stored
 * element by element).
 *
 * <p>Loop order (outer to inner): jc over NC columns, pc over K in balanced blocks of at most KC,
 * ic over MC rows, jr over NR panels, ir over MR panels: one B micro-panel ({@code KC x NR}, 32 KiB
 * with AVX-512) is reused against every A micro-panel of the packed A block ({@code MC x KC},
 * 144 KiB, in L2); the packed B block ({@code KC x NC}, 512 KiB) also stays in L2. Threads are split by
 * the caller ({@link Matmul}) over batch entries, N panels or M panels.
 *
 * <p>Ownership and thread safety: one instance per backend; it keeps a pool of per-thread packing
 * buffers ({@link Scratch}), taken for one {@link #gemm} call and returned after, so concurrent calls
 * from any threads are safe. Nothing else is shared.
 */
final class Sgemm {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int VL = S.length();
    /** Micro-tile rows. */
    static final int MR = 8;
    /** Micro-tile columns: two vectors. */
    static final int NR = 2 * VL;
    /** Depth of one packed block. */
    static final int KC = 256;
    /** Rows of one packed A block (a multiple of MR). */
    static final int MC = 18 * MR;
    /** Columns of one packed B block (a multiple of NR). */
    static final int NC = 16 * NR;

    private static final boolean T8 = Transpose.FLOATS && MR == 8;

    /** One matrix: element (i, j) at {@code off + i·rs + j·cs} of {@code seg}. */
    record Mat(MemorySegment seg, long off, long rs, long cs) {
        Mat at(long i, long j) {
            return new Mat(seg, off + i * rs + j * cs, rs, cs);
        }
    }

    /** Packing buffers of one thread for one call. */
    static final class Scratch {
        final float[] ap = new float[MC * KC];
        final float[] bp = new float[KC * NC];
        final float[] tile = new float[MR * NR];
    }

    private final ConcurrentLinkedQueue<Scratch> scratch = new ConcurrentLinkedQueue<>();

    /** {@code C[m, n] = A[m, k] · B[k, n]} on the calling thread. */
    void gemm(int m, int n, int k, Mat a, Mat b, Mat c) {
        if (m <= 0 || n <= 0) {
            return;
        }
        if (k <= 0) {
            zero(m, n, c);
            return;
        }
        Scratch s = scratch.poll();
        if (s == null) {
            s = new Scratch();
        }
        try {
            gemm(s, m, n, k, a, b, c);
        } finally {
            scratch.offer(s);
        }
    }

    /** Drops the cached packing buffers. */
    void clear() {
        scratch.clear();
    }

    // C[m, n] = A[m, k] · B[k, n]; the first k block stores, later ones accumulate
    private static void gemm(Scratch s, int m, int n, int k, Mat a, Mat b, Mat c) {
        int kBlocks = (k + KC - 1) / KC; // balanced: k = 784 is 3 x ~261, not 256 + 256 + 256 + 16
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int kb = 0; kb < kBlocks; kb++) {
                int pc = (int) ((long) k * kb / kBlocks);
                int kc = (int) ((long) k * (kb + 1) / kBlocks) - pc;
                packB(b.at(pc, jc), kc, nc, s.bp);                 // bp: [nc/NR][kc][NR]
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    packA(a.at(ic, pc), mc, kc, s.ap);             // ap: [mc/MR][kc][MR]
                    for (int jr = 0; jr < nc; jr += NR) {          // one B micro-panel [kc][NR] ...
                        int cols = Math.min(NR, nc - jr);
                        for (int ir = 0; ir < mc; ir += MR) {      // ... against every A micro-panel
                            kernel(kc, s.ap, ir * kc, s.bp, jr * kc, s.tile); // tile: [MR][NR]
                            store(s.tile, c.at(ic + ir, jc + jr), Math.min(MR, mc - ir), cols, kb > 0);
                        }
                    }
                }
            }
        }
    }

    private static void zero(int m, int n, Mat c) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                c.seg().set(F, (c.off() + i * c.rs() + j * c.cs()) << 2, 0f);
            }
        }
    }

    // ---- packing -----------------------------------------------------------------------------

    /**
     * Packs {@code A[0..mc, 0..kc]} into MR-row panels: panel p holds {@code ap[p·MR·kc + k·MR + r] =
     * A[p·MR + r, k]}, rows past mc zero.
     */
    static void packA(Mat a, int mc, int kc, float[] ap) {
        MemorySegment seg = a.seg();
        long rs = a.rs();
        long cs = a.cs();
        for (int ir = 0; ir < mc; ir += MR) {
            int base = ir * kc;
            int rows = Math.min(MR, mc - ir);
            long src = a.off() + ir * rs;
            if (cs == 1) {
                int k = 0;
                if (T8 && rows == MR) {
                    // row-major: 8 rows x 8 k per register transpose, output rows contiguous
                    for (; k + 8 <= kc; k += 8) {
                        Transpose.floats(seg, src + k, rs, ap, base + k * MR, MR);
                    }
                }
                for (int r = 0; r < rows; r++) {
                    long row = src + r * rs;
                    for (int kk = k; kk < kc; kk++) {
                        ap[base + kk * MR + r] = seg.get(F, (row + kk) << 2);
                    }
                }
            } else if (rs == 1 && T8 && rows == MR) {
                // transposed A: each k holds the panel's MR rows contiguously, one 8-lane copy
                for (int k = 0; k < kc; k++) {
                    FloatVector.fromMemorySegment(FloatVector.SPECIES_256, seg, (src + k * cs) << 2, NO).intoArray(ap, base + k * MR);
                }
            } else {
                // other strides (and a ragged last panel) element by element
                for (int k = 0; k < kc; k++) {
                    long col = src + k * cs;
                    int at = base + k * MR;
                    for (int r = 0; r < rows; r++) {
                        ap[at + r] = seg.get(F, (col + r * rs) << 2);
                    }
                }
            }
            if (rows < MR) {
                for (int k = 0; k < kc; k++) {
                    for (int r = rows; r < MR; r++) {
                        ap[base + k * MR + r] = 0f;
                    }
                }
            }
        }
    }

    /**
     * Packs {@code B[0..kc, 0..nc]} into NR-column panels: panel p holds {@code bp[p·NR·kc + k·NR + j] =
     * B[k, p·NR + j]}, columns past nc zero.
     */
    static void packB(Mat b, int kc, int nc, float[] bp) {
        MemorySegment seg = b.seg();
        long rs = b.rs();
        long cs = b.cs();
        for (int jr = 0; jr < nc; jr += NR) {
            int base = jr * kc;
            int cols = Math.min(NR, nc - jr);
            long src = b.off() + jr * cs;
            int j = 0;
            if (cs == 1) {
                // row-major: vector copies of each k row's full vectors, the ragged rest element by element
                int full = cols / VL * VL;
                if (cols == NR) {
                    for (int k = 0; k < kc; k++) {
                        long row = (src + k * rs) << 2;
                        int at = base + k * NR;
                        FloatVector.fromMemorySegment(S, seg, row, NO).intoArray(bp, at);
                        FloatVector.fromMemorySegment(S, seg, row + 4L * VL, NO).intoArray(bp, at + VL);
                    }
                    continue;
                }
                for (int k = 0; k < kc; k++) {
                    long row = src + k * rs;
                    int at = base + k * NR;
                    for (int v = 0; v < full; v += VL) {
                        FloatVector.fromMemorySegment(S, seg, (row + v) << 2, NO).intoArray(bp, at + v);
                    }
                    for (int jj = full; jj < cols; jj++) {
                        bp[at + jj] = seg.get(F, (row + jj) << 2);
                    }
                }
                j = cols;
            } else if (rs == 1 && T8) {
                // transposed (B = Wᵀ, W row-major [N, K]): 8 columns x 8 k per register transpose
                for (; j + 8 <= cols; j += 8) {
                    int k = 0;
                    for (; k + 8 <= kc; k += 8) {
                        Transpose.floats(seg, src + j * cs + k, cs, bp, base + k * NR + j, NR);
                    }
                    for (int jj = j; jj < j + 8; jj++) {
                        long col = src + jj * cs;
                        for (int kk = k; kk < kc; kk++) {
                            bp[base + kk * NR + jj] = seg.get(F, (col + kk) << 2);
                        }
                    }
                }
            }
            for (; j < cols; j++) {
                long col = src + j * cs;
                for (int k = 0; k < kc; k++) {
                    bp[base + k * NR + j] = seg.get(F, (col + k * rs) << 2);
                }
            }
            if (cols < NR) {
                for (int k = 0; k < kc; k++) {
                    for (int jj = cols; jj < NR; jj++) {
                        bp[base + k * NR + jj] = 0f;
                    }
                }
            }
        }
    }

    // ---- tile store --------------------------------------------------------------------------

    /** {@code C[0..rows, 0..cols] (+)= tile}; vector stores when C's rows are contiguous. */
    static void store(float[] tile, Mat c, int rows, int cols, boolean accumulate) {
        MemorySegment seg = c.seg();
        int j0 = 0;
        if (c.cs() == 1) {
            if (cols == NR) {
                for (int r = 0; r < rows; r++) {
                    long at = (c.off() + r * c.rs()) << 2;
                    FloatVector v0 = FloatVector.fromArray(S, tile, r * NR);
                    FloatVector v1 = FloatVector.fromArray(S, tile, r * NR + VL);
                    if (accumulate) {
                        v0 = v0.add(FloatVector.fromMemorySegment(S, seg, at, NO));
                        v1 = v1.add(FloatVector.fromMemorySegment(S, seg, at + 4L * VL, NO));
                    }
                    v0.intoMemorySegment(seg, at, NO);
                    v1.intoMemorySegment(seg, at + 4L * VL, NO);
                }
                return;
            }
            j0 = cols / VL * VL;
            for (int r = 0; r < rows && j0 > 0; r++) { // j0 == VL: one full vector per row
                long at = (c.off() + r * c.rs()) << 2;
                FloatVector v0 = FloatVector.fromArray(S, tile, r * NR);
                if (accumulate) {
                    v0 = v0.add(FloatVector.fromMemorySegment(S, seg, at, NO));
                }
                v0.intoMemorySegment(seg, at, NO);
            }
        }
        for (int r = 0; r < rows; r++) { // the ragged edge and non-unit column strides
            for (int j = j0; j < cols; j++) {
                long at = (c.off() + r * c.rs() + j * c.cs()) << 2;
                float v = tile[r * NR + j];
                seg.set(F, at, accumulate ? seg.get(F, at) + v : v);
            }
        }
    }

    // ---- micro-kernel ------------------------------------------------------------------------

    /** Scalar form of {@link #kernel}, the definition it must match (tests compare them). */
    static void kernelScalar(int kc, float[] ap, int ai, float[] bp, int bi, float[] tile) {
        for (int r = 0; r < MR; r++) {
            for (int j = 0; j < NR; j++) {
                float s = 0;
                for (int k = 0; k < kc; k++) {
                    s = Math.fma(ap[ai + k * MR + r], bp[bi + k * NR + j], s);
                }
                tile[r * NR + j] = s;
            }
        }
    }

    /**
     * The micro-kernel: {@code tile[8, NR] = Σ_k ap[k, 0..8) ⊗ bp[k, 0..NR)} over {@code kc} steps, with
     * 16 FloatVector accumulators (8 rows x 2 vectors) held in registers. {@code ap} holds a packed
     * 8-row panel ({@code [kc][8]} from {@code ai}), {@code bp} a packed NR-column panel
     * ({@code [kc][NR]} from {@code bi}). Scalar form: {@link #kernelScalar}.
     */
    static void kernel(int kc, float[] ap, int ai, float[] bp, int bi, float[] tile) {
        FloatVector c00 = FloatVector.zero(S); FloatVector c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S); FloatVector c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S); FloatVector c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S); FloatVector c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S); FloatVector c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S); FloatVector c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S); FloatVector c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S); FloatVector c71 = FloatVector.zero(S);
        for (int k = 0; k < kc; k++) {
            int bo = bi + k * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bo + 0 * VL);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + 1 * VL);
            int ao = ai + k * MR;
            FloatVector a0 = FloatVector.broadcast(S, ap[ao + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(S, ap[ao + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
            FloatVector a6 = FloatVector.broadcast(S, ap[ao + 6]);
            c60 = a6.fma(b0, c60); c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(S, ap[ao + 7]);
            c70 = a7.fma(b0, c70); c71 = a7.fma(b1, c71);
        }
        c00.intoArray(tile, 0 * NR + 0 * VL); c01.intoArray(tile, 0 * NR + 1 * VL);
        c10.intoArray(tile, 1 * NR + 0 * VL); c11.intoArray(tile, 1 * NR + 1 * VL);
        c20.intoArray(tile, 2 * NR + 0 * VL); c21.intoArray(tile, 2 * NR + 1 * VL);
        c30.intoArray(tile, 3 * NR + 0 * VL); c31.intoArray(tile, 3 * NR + 1 * VL);
        c40.intoArray(tile, 4 * NR + 0 * VL); c41.intoArray(tile, 4 * NR + 1 * VL);
        c50.intoArray(tile, 5 * NR + 0 * VL); c51.intoArray(tile, 5 * NR + 1 * VL);
        c60.intoArray(tile, 6 * NR + 0 * VL); c61.intoArray(tile, 6 * NR + 1 * VL);
        c70.intoArray(tile, 7 * NR + 0 * VL); c71.intoArray(tile, 7 * NR + 1 * VL);
    }
}
