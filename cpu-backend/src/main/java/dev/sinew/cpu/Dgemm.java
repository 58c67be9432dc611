package dev.sinew.cpu;

import static dev.sinew.cpu.Arg.D;
import static dev.sinew.cpu.Arg.NO;

import dev.sinew.cpu.Sgemm.Mat;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentLinkedQueue;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * FLOAT64 matrix multiply {@code C[M, N] = A[M, K] · B[K, N]}: the blocking of {@link Sgemm} (packed
 * MR-row A panels and NR-column B panels, balanced KC blocks) with a DoubleVector micro-kernel of
 * 8 rows x 2 vectors (8 x 16 with AVX-512) and plain element-by-element packing. Float64 is for
 * gradient checks and users who ask for it, so it is kept simple rather than tuned.
 *
 * <p>Ownership and thread safety as {@link Sgemm}: one instance per backend, per-call packing
 * buffers from a concurrent pool.
 */
final class Dgemm {
    static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    static final int VL = S.length();
    static final int MR = 8;
    static final int NR = 2 * VL;
    static final int KC = 256;
    static final int MC = 12 * MR;
    static final int NC = 16 * NR;

    /** Packing buffers of one thread for one call. */
    static final class Scratch {
        final double[] ap = new double[MC * KC];
        final double[] bp = new double[KC * NC];
        final double[] tile = new double[MR * NR];
    }

    private final ConcurrentLinkedQueue<Scratch> scratch = new ConcurrentLinkedQueue<>();

    /** {@code C[m, n] = A[m, k] · B[k, n]} on the calling thread. */
    void gemm(int m, int n, int k, Mat a, Mat b, Mat c) {
        if (m <= 0 || n <= 0) {
            return;
        }
        if (k <= 0) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    c.seg().set(D, (c.off() + i * c.rs() + j * c.cs()) << 3, 0d);
                }
            }
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

    void clear() {
        scratch.clear();
    }

    private static void gemm(Scratch s, int m, int n, int k, Mat a, Mat b, Mat c) {
        int kBlocks = (k + KC - 1) / KC;
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int kb = 0; kb < kBlocks; kb++) {
                int pc = (int) ((long) k * kb / kBlocks);
                int kc = (int) ((long) k * (kb + 1) / kBlocks) - pc;
                packB(b.at(pc, jc), kc, nc, s.bp);
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    packA(a.at(ic, pc), mc, kc, s.ap);
                    for (int jr = 0; jr < nc; jr += NR) {
                        int cols = Math.min(NR, nc - jr);
                        for (int ir = 0; ir < mc; ir += MR) {
                            kernel(kc, s.ap, ir * kc, s.bp, jr * kc, s.tile);
                            store(s.tile, c.at(ic + ir, jc + jr), Math.min(MR, mc - ir), cols, kb > 0);
                        }
                    }
                }
            }
        }
    }

    // ap[p·MR·kc + k·MR + r] = A[p·MR + r, k], zero past mc
    static void packA(Mat a, int mc, int kc, double[] ap) {
        MemorySegment seg = a.seg();
        for (int ir = 0; ir < mc; ir += MR) {
            int base = ir * kc;
            int rows = Math.min(MR, mc - ir);
            long src = a.off() + ir * a.rs();
            if (a.cs() == 1) {
                for (int r = 0; r < rows; r++) {
                    long row = src + r * a.rs();
                    for (int k = 0; k < kc; k++) {
                        ap[base + k * MR + r] = seg.get(D, (row + k) << 3);
                    }
                }
            } else {
                for (int k = 0; k < kc; k++) {
                    long col = src + k * a.cs();
                    for (int r = 0; r < rows; r++) {
                        ap[base + k * MR + r] = seg.get(D, (col + r * a.rs()) << 3);
                    }
                }
            }
            for (int k = 0; k < kc; k++) {
                for (int r = rows; r < MR; r++) {
                    ap[base + k * MR + r] = 0d;
                }
            }
        }
    }

    // bp[p·NR·kc + k·NR + j] = B[k, p·NR + j], zero past nc
    static void packB(Mat b, int kc, int nc, double[] bp) {
        MemorySegment seg = b.seg();
        for (int jr = 0; jr < nc; jr += NR) {
            int base = jr * kc;
            int cols = Math.min(NR, nc - jr);
            long src = b.off() + jr * b.cs();
            int j = 0;
            if (b.cs() == 1) {
                int full = cols / VL * VL;
                for (int k = 0; k < kc; k++) {
                    long row = src + k * b.rs();
                    int at = base + k * NR;
                    for (int v = 0; v < full; v += VL) {
                        DoubleVector.fromMemorySegment(S, seg, (row + v) << 3, NO).intoArray(bp, at + v);
                    }
                    for (int jj = full; jj < cols; jj++) {
                        bp[at + jj] = seg.get(D, (row + jj) << 3);
                    }
                }
                j = cols;
            }
            for (; j < cols; j++) {
                long col = src + j * b.cs();
                for (int k = 0; k < kc; k++) {
                    bp[base + k * NR + j] = seg.get(D, (col + k * b.rs()) << 3);
                }
            }
            for (j = cols; j < NR; j++) {
                for (int k = 0; k < kc; k++) {
                    bp[base + k * NR + j] = 0d;
                }
            }
        }
    }

    static void store(double[] tile, Mat c, int rows, int cols, boolean accumulate) {
        MemorySegment seg = c.seg();
        int j0 = 0;
        if (c.cs() == 1) {
            j0 = cols / VL * VL;
            for (int r = 0; r < rows; r++) {
                long at = (c.off() + r * c.rs()) << 3;
                for (int v = 0; v < j0; v += VL) {
                    DoubleVector t = DoubleVector.fromArray(S, tile, r * NR + v);
                    if (accumulate) {
                        t = t.add(DoubleVector.fromMemorySegment(S, seg, at + 8L * v, NO));
                    }
                    t.intoMemorySegment(seg, at + 8L * v, NO);
                }
            }
        }
        for (int r = 0; r < rows; r++) {
            for (int j = j0; j < cols; j++) {
                long at = (c.off() + r * c.rs() + j * c.cs()) << 3;
                double v = tile[r * NR + j];
                seg.set(D, at, accumulate ? seg.get(D, at) + v : v);
            }
        }
    }

    /** Scalar form of {@link #kernel}. */
    static void kernelScalar(int kc, double[] ap, int ai, double[] bp, int bi, double[] tile) {
        for (int r = 0; r < MR; r++) {
            for (int j = 0; j < NR; j++) {
                double s = 0;
                for (int k = 0; k < kc; k++) {
                    s = Math.fma(ap[ai + k * MR + r], bp[bi + k * NR + j], s);
                }
                tile[r * NR + j] = s;
            }
        }
    }

    /**
     * The micro-kernel: {@code tile[8, NR] = Σ_k ap[k, 0..8) ⊗ bp[k, 0..NR)} over {@code kc} steps, with
     * 16 DoubleVector accumulators (8 rows x 2 vectors) held in registers. {@code ap} holds a packed
     * 8-row panel ({@code [kc][8]} from {@code ai}), {@code bp} a packed NR-column panel
     * ({@code [kc][NR]} from {@code bi}). Scalar form: {@link #kernelScalar}.
     */
    static void kernel(int kc, double[] ap, int ai, double[] bp, int bi, double[] tile) {
        DoubleVector c00 = DoubleVector.zero(S); DoubleVector c01 = DoubleVector.zero(S);
        DoubleVector c10 = DoubleVector.zero(S); DoubleVector c11 = DoubleVector.zero(S);
        DoubleVector c20 = DoubleVector.zero(S); DoubleVector c21 = DoubleVector.zero(S);
        DoubleVector c30 = DoubleVector.zero(S); DoubleVector c31 = DoubleVector.zero(S);
        DoubleVector c40 = DoubleVector.zero(S); DoubleVector c41 = DoubleVector.zero(S);
        DoubleVector c50 = DoubleVector.zero(S); DoubleVector c51 = DoubleVector.zero(S);
        DoubleVector c60 = DoubleVector.zero(S); DoubleVector c61 = DoubleVector.zero(S);
        DoubleVector c70 = DoubleVector.zero(S); DoubleVector c71 = DoubleVector.zero(S);
        for (int k = 0; k < kc; k++) {
            int bo = bi + k * NR;
            DoubleVector b0 = DoubleVector.fromArray(S, bp, bo + 0 * VL);
            DoubleVector b1 = DoubleVector.fromArray(S, bp, bo + 1 * VL);
            int ao = ai + k * MR;
            DoubleVector a0 = DoubleVector.broadcast(S, ap[ao + 0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            DoubleVector a1 = DoubleVector.broadcast(S, ap[ao + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            DoubleVector a2 = DoubleVector.broadcast(S, ap[ao + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            DoubleVector a3 = DoubleVector.broadcast(S, ap[ao + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            DoubleVector a4 = DoubleVector.broadcast(S, ap[ao + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            DoubleVector a5 = DoubleVector.broadcast(S, ap[ao + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
            DoubleVector a6 = DoubleVector.broadcast(S, ap[ao + 6]);
            c60 = a6.fma(b0, c60); c61 = a6.fma(b1, c61);
            DoubleVector a7 = DoubleVector.broadcast(S, ap[ao + 7]);
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
