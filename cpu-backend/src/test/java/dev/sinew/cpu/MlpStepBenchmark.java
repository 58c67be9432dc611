package dev.sinew.cpu;

import dev.sinew.DType;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.nn.Linear;
import dev.sinew.nn.Losses;
import dev.sinew.nn.ReLU;
import dev.sinew.nn.Sequential;
import dev.sinew.optim.Adam;
import dev.sinew.spi.BackendOptions;
import java.util.Arrays;

/**
 * Prints the median and best time of one Adam training step of the MLP 784-512-256-10 at batch 128
 * (forward, cross-entropy, backward, optimiser) on the CPU backend with 1 and 2 threads, after
 * 5 s of warm-up. Not a test; run it like {@link MatmulBenchmark}. Arguments: thread counts (default 1 2),
 * or the backend name first to compare ({@code reference 1}).
 */
public final class MlpStepBenchmark {
    private MlpStepBenchmark() {
    }

    @SuppressWarnings("try") // the step's scope is only there to be closed
    public static void main(String[] args) {
        String backend = args.length > 0 && !args[0].matches("\\d+") ? args[0] : "cpu";
        int[] threads = Arrays.stream(args).filter(a -> a.matches("\\d+")).mapToInt(Integer::parseInt).toArray();
        if (threads.length == 0) {
            threads = new int[] {1, 2};
        }
        for (int t : threads) {
            try (Sinew sn = Sinew.use(backend, new BackendOptions(t, false))) {
                Generator g = sn.generator(42);
                Sequential model = new Sequential(new Linear(sn, 784, 512, g), new ReLU(), new Linear(sn, 512, 256, g),
                        new ReLU(), new Linear(sn, 256, 10, g));
                Tensor x = sn.rand(g, DType.FLOAT32, 128, 784).detachFromScope();
                long[] labels = new long[128];
                for (int i = 0; i < labels.length; i++) {
                    labels[i] = g.nextInt(10);
                }
                Tensor y = sn.fromArray(labels, 128).detachFromScope();
                try (Adam opt = new Adam(model.parameters(), 1e-3)) {
                    // warm up for 5 s (C2 must compile every kernel; the Vector API is slow until it has),
                    // then time 400 steps (20 for the slow reference backend)
                    boolean fast = !backend.equals("reference");
                    int n = fast ? 400 : 20;
                    long[] times = new long[n];
                    double loss = 0;
                    long warmEnd = System.nanoTime() + (fast ? 5_000_000_000L : 0);
                    for (int i = -1; i < n; i++) {
                        long t0 = System.nanoTime();
                        try (var scope = sn.scope()) {
                            opt.zeroGrad();
                            Tensor l = Losses.crossEntropy(model.forward(x), y);
                            l.backward();
                            opt.step();
                            loss = l.item();
                        }
                        if (i >= 0) {
                            times[i] = System.nanoTime() - t0;
                        } else if (System.nanoTime() < warmEnd) {
                            i--; // still warming up
                        }
                    }
                    Arrays.sort(times);
                    System.out.printf("%s, %d thread(s): MLP 784-512-256-10 Adam step, batch 128: median %.3f ms, best"
                            + " %.3f ms, p10 %.3f, p90 %.3f (loss %.4f)%n", backend, t, times[n / 2] / 1e6, times[0] / 1e6,
                            times[n / 10] / 1e6, times[n * 9 / 10] / 1e6, loss);
                } finally {
                    x.close();
                    y.close();
                    model.close();
                }
            }
        }
    }
}
