package dev.sinew.bench.perf;

import dev.sinew.DType;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.cpu.CpuBackend;
import dev.sinew.models.LeNet5;
import dev.sinew.nn.Losses;
import dev.sinew.optim.Adam;
import dev.sinew.spi.Backend;
import dev.sinew.spi.BackendOptions;
import dev.sinew.spi.FusedOps.Conv2dParams;
import dev.sinew.spi.View;
import java.util.Arrays;
import java.util.Locale;

/**
 * LeNet-5 training step (batch 64, Adam, cross-entropy, random data) and the three Conv2d shapes of
 * issue 4, forward and forward+backward (input, weight and bias gradients), on the CPU backend.
 * Peer: {@code bench/peers/pytorch_conv.py}, same work, same output format.
 *
 * <p>Not JMH (the build is offline and has no JMH): each case runs warm-up repetitions for about
 * two seconds, then {@code reps} timed repetitions; it prints the median and p10–p90 per call.
 * Run: {@code java --add-modules jdk.incubator.vector -cp … dev.sinew.bench.perf.ConvBench [threads [lenet|conv1|conv2|conv3]]}.
 */
public final class ConvBench {
    private ConvBench() {
    }

    /** One timed body. */
    @FunctionalInterface
    interface Body {
        void run();
    }

    static double[] time(Body b, int inner, int reps) {
        long end = System.nanoTime() + 2_000_000_000L;
        while (System.nanoTime() < end) {
            b.run();
        }
        double[] ms = new double[reps];
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < inner; i++) {
                b.run();
            }
            ms[r] = (System.nanoTime() - t0) / 1e6 / inner;
        }
        Arrays.sort(ms);
        return new double[] {ms[reps / 2], ms[reps / 10], ms[reps * 9 / 10]};
    }

    static void report(String name, double[] t, double gflop) {
        System.out.printf(Locale.ROOT, "%-34s median %8.3f ms  p10 %8.3f  p90 %8.3f  %7.1f GFLOP/s%n", name, t[0], t[1],
                t[2], gflop / t[0] * 1e3);
    }

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        try (Sinew sn = Sinew.of(new CpuBackend(new BackendOptions(threads, false)))) {
            String only = args.length > 1 ? args[1] : "";
            if ("lenet".startsWith(only)) {
                lenet(sn);
            }
            if ("conv1".startsWith(only)) {
                conv(sn, "conv1 N64 1-6 28x28 k5 p2", 64, 1, 6, 28, 5, 2);
            }
            if ("conv2".startsWith(only)) {
                conv(sn, "conv2 N64 6-16 14x14 k5", 64, 6, 16, 14, 5, 0);
            }
            if ("conv3".startsWith(only)) {
                conv(sn, "conv3 N32 64-64 56x56 k3 p1", 32, 64, 64, 56, 3, 1);
            }
        }
    }

    static void lenet(Sinew sn) {
        Generator g = sn.generator(1);
        LeNet5 model = new LeNet5(sn, g);
        Adam opt = new Adam(model.parameters(), 1e-3);
        Tensor x = sn.randn(g, DType.FLOAT32, 64, 1, 28, 28);
        long[] labels = new long[64];
        for (int i = 0; i < 64; i++) {
            labels[i] = i % 10;
        }
        Tensor y = sn.fromArray(labels, 64);
        double[] t = time(() -> {
            try (var scope = sn.scope()) {
                opt.zeroGrad();
                Losses.crossEntropy(model.forward(x), y).backward();
                opt.step();
            }
        }, 10, 60);
        report("lenet step b64", t, Double.NaN);
        System.out.printf(Locale.ROOT, "%-34s %8.0f samples/s%n", "lenet step b64", 64 / t[0] * 1e3);
    }

    static void conv(Sinew sn, String name, int n, int cin, int cout, int hw, int k, int pad) {
        Generator g = sn.generator(2);
        Backend b = sn.backend();
        Conv2dParams p = Conv2dParams.of(1, 1, pad, pad, 1, 1, 1);
        int o = hw + 2 * pad - k + 1;
        Tensor x = sn.randn(g, DType.FLOAT32, n, cin, hw, hw);
        Tensor w = sn.randn(g, DType.FLOAT32, cout, cin, k, k);
        Tensor bias = sn.randn(g, DType.FLOAT32, cout);
        Tensor out = sn.zeros(DType.FLOAT32, n, cout, o, o);
        Tensor dy = sn.randn(g, DType.FLOAT32, n, cout, o, o);
        Tensor dx = sn.zeros(DType.FLOAT32, n, cin, hw, hw);
        Tensor dw = sn.zeros(DType.FLOAT32, cout, cin, k, k);
        Tensor db = sn.zeros(DType.FLOAT32, cout);
        View X = x.storageView(), W = w.storageView(), B = bias.storageView(), O = out.storageView();
        View DY = dy.storageView(), DX = dx.storageView(), DW = dw.storageView(), DB = db.storageView();
        double fwd = 2.0 * n * cout * o * o * cin * k * k / 1e9;
        int inner = fwd < 0.1 ? 20 : 1;
        report(name + " fwd", time(() -> b.conv2d(X, W, B, O, p), inner, 30), fwd);
        report(name + " fwd+bwd", time(() -> {
            b.conv2d(X, W, B, O, p);
            b.conv2dBackwardData(DY, W, DX, p);
            b.conv2dBackwardFilter(X, DY, DW, DB, p);
        }, inner, 30), 3 * fwd);
    }
}
