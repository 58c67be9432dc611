package dev.sinew.bench.suite;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's float32 FMA peak, measured: every thread runs a loop of independent
 * {@code FloatVector.fma} chains (enough accumulators to hide the FMA latency) on the preferred
 * species, and the probe counts two flops per lane per FMA. Best of a few short rounds. Stateless.
 */
public final class FmaProbe {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int ITERS = 2_000_000;

    private FmaProbe() {
    }

    /** Preferred float vector width in bits. */
    public static int vectorBits() {
        return S.vectorBitSize();
    }

    /** GFLOP/s of {@code threads} threads running FMA chains at once; best of {@code rounds}. */
    public static double measure(int threads, int rounds) {
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "sinew-fma-probe");
            t.setDaemon(true);
            return t;
        });
        try {
            // JIT the loop first so the timed rounds run compiled code
            for (int i = 0; i < 3; i++) {
                chains(ITERS / 4, 1f + i);
            }
            double best = 0;
            for (int r = 0; r < rounds; r++) {
                List<Callable<Float>> tasks = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    float seed = 1f + t;
                    tasks.add(() -> chains(ITERS, seed));
                }
                long t0 = System.nanoTime();
                List<Future<Float>> fs = pool.invokeAll(tasks);
                float sink = 0;
                for (Future<Float> f : fs) {
                    sink += f.get();
                }
                long dt = System.nanoTime() - t0;
                if (Float.isNaN(sink)) {
                    throw new IllegalStateException("FMA probe produced NaN");
                }
                double flops = 2.0 * 12 * S.length() * (double) ITERS * threads;
                best = Math.max(best, flops / dt);
            }
            return best;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("FMA probe interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("FMA probe failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /** Twelve independent FMA chains of {@code iters} steps each; returns a value that depends on all. */
    static float chains(int iters, float seed) {
        FloatVector m = FloatVector.broadcast(S, 0.999999f);
        FloatVector c = FloatVector.broadcast(S, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(S, seed), a1 = a0.add(1), a2 = a0.add(2), a3 = a0.add(3);
        FloatVector a4 = a0.add(4), a5 = a0.add(5), a6 = a0.add(6), a7 = a0.add(7);
        FloatVector a8 = a0.add(8), a9 = a0.add(9), a10 = a0.add(10), a11 = a0.add(11);
        for (int i = 0; i < iters; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }
}
