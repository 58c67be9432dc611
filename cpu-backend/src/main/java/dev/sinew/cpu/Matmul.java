package dev.sinew.cpu;

import dev.sinew.DType;
import dev.sinew.cpu.Sgemm.Mat;
import java.util.Arrays;

/**
 * Batched matrix product {@code out[p] = a[p] · b[p]} ({@code [P, M, K] x [P, K, N] -> [P, M, N]}) and
 * how it is spread over threads: FLOAT32 goes to {@link Sgemm}, FLOAT64 to {@link Dgemm}, INT64 and
 * mixed dtypes to a plain triple loop with the reference's accumulation (exact 64-bit for INT64,
 * double otherwise).
 *
 * <p>Threads: a product below {@value #PARALLEL_FLOPS} flops runs on the caller. Otherwise, with
 * enough batch entries, each chunk is one whole entry; else every entry is cut into {@code threads}
 * parts along N (in NR-column panels) when {@code M <= N}, or along M (in MR-row panels), so each part
 * packs the smaller operand again rather than waiting for a shared copy, and parts never share a
 * cache line of the output except where a row is shorter than one.
 *
 * <p>Ownership: one instance per backend (it holds the gemms' buffer pools); thread-safe.
 */
final class Matmul {
    /** Products smaller than this (2·P·M·N·K) are not split: waking a worker costs more. */
    static final double PARALLEL_FLOPS = 3e6;

    private final Parallel par;
    private final Sgemm sgemm = new Sgemm();
    private final Dgemm dgemm = new Dgemm();

    Matmul(Parallel par) {
        this.par = par;
    }

    /** A kernel for one 2-D product on the calling thread. */
    @FunctionalInterface
    private interface Gemm {
        void run(int m, int n, int k, Mat a, Mat b, Mat c);
    }

    void matmul(Arg a, Arg b, Arg c) {
        if (a.rank() != 3 || b.rank() != 3 || c.rank() != 3) {
            throw new IllegalArgumentException("matmul: operands must be rank 3 [P, M, K] x [P, K, N] -> [P, M, N], got "
                    + Arrays.toString(a.shape()) + " x " + Arrays.toString(b.shape()) + " -> "
                    + Arrays.toString(c.shape()));
        }
        long p = c.shape()[0];
        long m = c.shape()[1];
        long n = c.shape()[2];
        long k = a.shape()[2];
        if (a.shape()[0] != p || a.shape()[1] != m || b.shape()[0] != p || b.shape()[1] != k || b.shape()[2] != n) {
            throw new IllegalArgumentException("matmul: shapes " + Arrays.toString(a.shape()) + " x "
                    + Arrays.toString(b.shape()) + " -> " + Arrays.toString(c.shape()) + " do not agree");
        }
        if (p == 0 || m == 0 || n == 0) {
            return;
        }
        DType t = c.dtype();
        boolean same = a.dtype() == t && b.dtype() == t;
        if (same && t == DType.FLOAT32) {
            blas(sgemm::gemm, Sgemm.MR, Sgemm.NR, a, b, c, p, m, n, k);
        } else if (same && t == DType.FLOAT64) {
            blas(dgemm::gemm, Dgemm.MR, Dgemm.NR, a, b, c, p, m, n, k);
        } else {
            par.run((int) p, q -> plain(a, b, c, q, m, n, k));
        }
    }

    void clear() {
        sgemm.clear();
        dgemm.clear();
    }

    /**
     * One 2-D product on the calling thread. A product narrower than one micro-tile ({@code n < NR},
     * e.g. the 10 logits of a classifier) but taller is computed as {@code Cᵀ = Bᵀ·Aᵀ}, which fills
     * the tiles' columns with M instead of wasting most of each: the operands are only seen with
     * swapped strides (the packing routines read any layout).
     */
    private static void one(Gemm g, int nr, int m, int n, int k, Mat a, Mat b, Mat c) {
        if (n < nr && m > n) {
            g.run(n, m, k, transposed(b), transposed(a), transposed(c));
        } else {
            g.run(m, n, k, a, b, c);
        }
    }

    private static Mat transposed(Mat x) {
        return new Mat(x.seg(), x.off(), x.cs(), x.rs());
    }

    private static Mat mat(Arg x, long batch) {
        long[] s = x.strides();
        return new Mat(x.seg(), x.offset() + batch * s[0], s[1], s[2]);
    }

    private void blas(Gemm g, int mr, int nr, Arg a, Arg b, Arg c, long p, long m, long n, long k) {
        int mi = Math.toIntExact(m);
        int ni = Math.toIntExact(n);
        int ki = Math.toIntExact(k);
        int threads = par.threads();
        double flops = 2.0 * p * m * n * k;
        if (threads == 1 || flops < PARALLEL_FLOPS) {
            for (long q = 0; q < p; q++) {
                one(g, nr, mi, ni, ki, mat(a, q), mat(b, q), mat(c, q));
            }
            return;
        }
        if (p >= threads && (p % threads == 0 || p >= 3L * threads)) {
            par.run(Math.toIntExact(p), q -> one(g, nr, mi, ni, ki, mat(a, q), mat(b, q), mat(c, q)));
            return;
        }
        int nPanels = (ni + nr - 1) / nr;
        int mPanels = (mi + mr - 1) / mr;
        boolean splitN = (m <= n && nPanels >= 2) || mPanels < 2;
        int panels = splitN ? nPanels : mPanels;
        int parts = Math.min(threads, panels);
        if (parts < 2) {
            for (long q = 0; q < p; q++) {
                one(g, nr, mi, ni, ki, mat(a, q), mat(b, q), mat(c, q));
            }
            return;
        }
        par.run(Math.toIntExact(p * parts), task -> {
            long q = task / parts;
            int part = task % parts;
            Mat ma = mat(a, q);
            Mat mb = mat(b, q);
            Mat mc = mat(c, q);
            if (splitN) {
                int j0 = (int) Parallel.align(nPanels, parts, part, 1) * nr;
                int j1 = Math.min(ni, (int) Parallel.align(nPanels, parts, part + 1, 1) * nr);
                g.run(mi, j1 - j0, ki, ma, mb.at(0, j0), mc.at(0, j0));
            } else {
                int i0 = (int) Parallel.align(mPanels, parts, part, 1) * mr;
                int i1 = Math.min(mi, (int) Parallel.align(mPanels, parts, part + 1, 1) * mr);
                g.run(i1 - i0, ni, ki, ma.at(i0, 0), mb, mc.at(i0, 0));
            }
        });
    }

    /** One batch entry by the reference's loops (INT64 exact, otherwise double accumulation). */
    private static void plain(Arg a, Arg b, Arg c, long q, long m, long n, long k) {
        long[] as = a.strides();
        long[] bs = b.strides();
        long[] cs = c.strides();
        boolean integer = a.dtype() == DType.INT64 && b.dtype() == DType.INT64;
        for (long i = 0; i < m; i++) {
            for (long j = 0; j < n; j++) {
                long ai = a.offset() + q * as[0] + i * as[1];
                long bi = b.offset() + q * bs[0] + j * bs[2];
                long ci = c.offset() + q * cs[0] + i * cs[1] + j * cs[2];
                if (integer) {
                    long sum = 0;
                    for (long r = 0; r < k; r++) {
                        sum += a.getLong(ai + r * as[2]) * b.getLong(bi + r * bs[1]);
                    }
                    c.setLong(ci, sum);
                } else {
                    double sum = 0;
                    for (long r = 0; r < k; r++) {
                        sum += a.get(ai + r * as[2]) * b.get(bi + r * bs[1]);
                    }
                    c.set(ci, sum);
                }
            }
        }
    }
}
