package dev.sinew.cpu;

import dev.sinew.DType;
import dev.sinew.spi.Backend;
import dev.sinew.spi.BackendOptions;
import dev.sinew.spi.Distribution;
import dev.sinew.spi.Storage;
import dev.sinew.spi.View;
import java.util.ArrayList;
import java.util.List;

/**
 * Prints FLOAT32 matmul throughput (GFLOP/s, best ~10 ms batch over 2 s, after 1.5 s of warm-up) for n = 1024
 * and the MLP 784-512-256-10 shapes at batch 128, with 1 and 2 threads. Not a test: run it with
 * {@code java --add-modules jdk.incubator.vector -cp <test-classes>:<classes>:<core> dev.sinew.cpu.MatmulBenchmark}.
 * Layouts: N row-major, T transposed view ({@code [·, 1, rows]} strides).
 */
public final class MatmulBenchmark {
    private MatmulBenchmark() {
    }

    record Shape(String name, int m, int k, int n, boolean ta, boolean tb) {
    }

    public static void main(String[] args) {
        List<Shape> shapes = new ArrayList<>(List.of(
                new Shape("1024^3 NN", 1024, 1024, 1024, false, false),
                new Shape("1024^3 NT", 1024, 1024, 1024, false, true),
                new Shape("mlp fc1 x·W [128,784]x[784,512]", 128, 784, 512, false, false),
                new Shape("mlp fc1 x·Wt (W [512,784])", 128, 784, 512, false, true),
                new Shape("mlp fc1 dW = xT·dy [784,128]x[128,512]", 784, 128, 512, true, false),
                new Shape("mlp fc1 dx = dy·WT [128,512]x[512,784]", 128, 512, 784, false, true),
                new Shape("mlp fc2 [128,512]x[512,256]", 128, 512, 256, false, false),
                new Shape("mlp fc2 dW [512,128]x[128,256]", 512, 128, 256, true, false),
                new Shape("mlp fc3 [128,256]x[256,10]", 128, 256, 10, false, false)));
        int[] threadCounts = args.length > 0 ? new int[] {Integer.parseInt(args[0])} : new int[] {1, 2};
        if (args.length > 1) { // only the shapes whose index is listed
            List<Shape> chosen = new ArrayList<>();
            for (int i = 1; i < args.length; i++) {
                chosen.add(shapes.get(Integer.parseInt(args[i])));
            }
            shapes = chosen;
        }
        for (int threads : threadCounts) {
            try (CpuBackend b = new CpuBackend(new BackendOptions(threads, false))) {
                System.out.println("threads " + threads + ": " + b.describe());
                for (Shape s : shapes) {
                    System.out.printf("  %-44s %7.1f GFLOP/s%n", s.name(), run(b, s));
                }
            }
        }
    }

    private static double run(Backend b, Shape s) {
        Storage sa = b.allocate(DType.FLOAT32, (long) s.m() * s.k());
        Storage sb = b.allocate(DType.FLOAT32, (long) s.k() * s.n());
        Storage sc = b.allocate(DType.FLOAT32, (long) s.m() * s.n());
        try {
            b.random(View.contiguous(sa, (long) s.m() * s.k()), Distribution.UNIFORM, -1, 1, 1, 0);
            b.random(View.contiguous(sb, (long) s.k() * s.n()), Distribution.UNIFORM, -1, 1, 2, 0);
            View a = s.ta() ? new View(sa, 0, new long[] {1, s.m(), s.k()}, new long[] {0, 1, s.m()})
                    : View.contiguous(sa, 1, s.m(), s.k());
            View bv = s.tb() ? new View(sb, 0, new long[] {1, s.k(), s.n()}, new long[] {0, 1, s.k()})
                    : View.contiguous(sb, 1, s.k(), s.n());
            View c = View.contiguous(sc, 1, s.m(), s.n());
            double flops = 2.0 * s.m() * s.n() * s.k();
            // warm up for ~1.5 s so that the JIT has compiled every level of the loop nest
            long warmEnd = System.nanoTime() + 1_500_000_000L;
            while (System.nanoTime() < warmEnd) {
                b.matmul(a, bv, c);
            }
            // then time batches of ~10 ms for 2 s and keep the best: the machine is shared, and one
            // busy neighbour during a whole short measurement would halve a 2-thread result
            int reps = (int) Math.max(1, Math.min(2000, 1e9 / flops));
            long best = Long.MAX_VALUE;
            long end = System.nanoTime() + 2_000_000_000L;
            while (System.nanoTime() < end) {
                long t0 = System.nanoTime();
                for (int r = 0; r < reps; r++) {
                    b.matmul(a, bv, c);
                }
                best = Math.min(best, (System.nanoTime() - t0) / reps);
            }
            return flops / best;
        } finally {
            sa.release();
            sb.release();
            sc.release();
        }
    }
}
