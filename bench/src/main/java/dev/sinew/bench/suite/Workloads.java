package dev.sinew.bench.suite;

import dev.sinew.DType;
import dev.sinew.Functional.RnnOutput;
import dev.sinew.Generator;
import dev.sinew.NoGrad;
import dev.sinew.Scope;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.bench.train.Models;
import dev.sinew.models.CharLstm;
import dev.sinew.models.LeNet5;
import dev.sinew.nn.GRU;
import dev.sinew.nn.LSTM;
import dev.sinew.nn.Losses;
import dev.sinew.nn.Module;
import dev.sinew.nn.RNN;
import dev.sinew.nn.RNNBase;
import dev.sinew.nn.RnnOptions;
import dev.sinew.optim.Adam;
import dev.sinew.optim.GradClip;
import dev.sinew.spi.Backend;
import dev.sinew.spi.FusedOps.Conv2dParams;
import dev.sinew.spi.View;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The standard workloads of {@code sinew bench}, in suite order, grouped as {@code --workloads}
 * names them. Every input is random (seeded, never all zero); labels are uniform over the classes.
 * Each has a PyTorch twin of the same name in {@code bench/peers/pytorch_bench.py}. Stateless.
 */
public final class Workloads {
    /** The {@code --workloads} group names, in suite order. */
    public static final List<String> GROUPS =
            List.of("gemm", "conv", "rnn", "softmax-ce", "adam", "mlp", "lenet", "charlstm");

    private static final int RNN_IN = 128, RNN_HIDDEN = 256, RNN_SEQ = 64, RNN_BATCH = 32;
    private static final int CHAR_VOCAB = 96, CHAR_EMBED = 64;

    private Workloads() {
    }

    /** Every workload, in suite order. */
    public static List<Workload> all() {
        List<Workload> w = new ArrayList<>();
        for (int n : new int[] {512, 1024, 2048}) {
            int warm = n == 2048 ? 2 : n == 1024 ? 5 : 10;
            int rep = n == 2048 ? 10 : n == 1024 ? 30 : 60;
            w.add(new Workload("gemm-" + n, "gemm", "C[" + n + "," + n + "] = A·B, float32", 2.0 * n * n * n / 1e9, 1,
                    "products", warm, rep, n >= 1024, sn -> gemm(sn, n)));
        }
        conv(w, "conv1", "N64 1→6 28×28 k5 pad2", 64, 1, 6, 28, 5, 2, 10, 60);
        conv(w, "conv2", "N64 6→16 14×14 k5", 64, 6, 16, 14, 5, 0, 10, 60);
        conv(w, "conv3", "N32 64→64 56×56 k3 pad1", 32, 64, 64, 56, 3, 1, 2, 8);
        for (String kind : new String[] {"rnn", "lstm", "gru"}) {
            int gates = switch (kind) {
                case "lstm" -> 4;
                case "gru" -> 3;
                default -> 1;
            };
            double fwd = 2.0 * RNN_SEQ * RNN_BATCH * (RNN_IN + RNN_HIDDEN) * (double) gates * RNN_HIDDEN / 1e9;
            String shape = "T" + RNN_SEQ + " B" + RNN_BATCH + " I" + RNN_IN + " H" + RNN_HIDDEN;
            w.add(new Workload(kind + "-fwd", "rnn", kind.toUpperCase(Locale.ROOT) + " layer forward, " + shape, fwd,
                    RNN_BATCH, "sequences", 3, 25, true, sn -> rnn(sn, kind, false)));
            w.add(new Workload(kind + "-fwdbwd", "rnn", kind.toUpperCase(Locale.ROOT) + " layer forward+backward, " + shape,
                    3 * fwd, RNN_BATCH, "sequences", 3, 25, true, sn -> rnn(sn, kind, true)));
        }
        w.add(new Workload("softmax-ce", "softmax-ce", "cross-entropy of logits [4096,1000], forward+backward",
                Double.NaN, 4096, "rows", 5, 40, false, Workloads::softmaxCe));
        w.add(new Workload("adam", "adam", "Adam step on 10M float32 parameters", Double.NaN, 10_000_000, "params", 3, 30,
                true, Workloads::adam));
        w.add(new Workload("mlp", "mlp", "MLP 784-512-256-10 Adam step, batch 128", Double.NaN, 128, "samples", 10, 80,
                false, Workloads::mlp));
        w.add(new Workload("lenet", "lenet", "LeNet-5 Adam step, batch 64", Double.NaN, 64, "samples", 10, 80, false,
                Workloads::lenet));
        w.add(new Workload("charlstm", "charlstm", "char-LSTM V96 E64 H256 Adam step (clip 5), batch 32, seq 64",
                Double.NaN, 32L * 64, "chars", 3, 16, true, Workloads::charLstm));
        return List.copyOf(w);
    }

    /** The workloads of the named groups (all when {@code groups} is empty), in suite order. */
    public static List<Workload> select(List<String> groups) {
        Map<String, Boolean> wanted = new LinkedHashMap<>();
        for (String g : groups) {
            String k = g.trim().toLowerCase(Locale.ROOT);
            if (k.isEmpty()) {
                continue;
            }
            if (!GROUPS.contains(k)) {
                throw new IllegalArgumentException("unknown workload '" + g + "' (known: " + String.join(", ", GROUPS) + ")");
            }
            wanted.put(k, true);
        }
        return all().stream().filter(w -> wanted.isEmpty() || wanted.containsKey(w.group())).toList();
    }

    // ---- the workloads ------------------------------------------------------------------------

    /** Frees the setup scope and the given modules after the optimiser or other closeables. */
    private record Holder(Scope setup, List<AutoCloseable> owned, Runnable body) implements Workload.Step {
        @Override
        public void run() {
            body.run();
        }

        @Override
        public void close() {
            for (int i = owned.size() - 1; i >= 0; i--) {
                try {
                    owned.get(i).close();
                } catch (Exception e) {
                    throw new IllegalStateException("closing a workload failed: " + e.getMessage(), e);
                }
            }
            setup.close();
        }
    }

    private static long[] labels(int n, int classes, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(classes);
        }
        return y;
    }

    static Workload.Step gemm(Sinew sn, int n) {
        Scope setup = sn.scope();
        Generator g = sn.generator(1);
        Tensor a = sn.randn(g, DType.FLOAT32, n, n);
        Tensor b = sn.randn(g, DType.FLOAT32, n, n);
        Tensor c = sn.zeros(DType.FLOAT32, n, n);
        Backend be = sn.backend();
        View va = batchOfOne(a.storageView()), vb = batchOfOne(b.storageView()), vc = batchOfOne(c.storageView());
        return new Holder(setup, List.of(), () -> {
            be.matmul(va, vb, vc);
            be.synchronize();
        });
    }

    /** {@code [M, N]} as {@code [1, M, N]}, the SPI's batched-matmul layout. */
    private static View batchOfOne(View v) {
        return v.with(v.offset(), new long[] {1, v.shape()[0], v.shape()[1]},
                new long[] {0, v.strides()[0], v.strides()[1]});
    }

    private static void conv(List<Workload> w, String id, String shape, int n, int cin, int cout, int hw, int k, int pad,
            int warm, int rep) {
        int o = hw + 2 * pad - k + 1;
        double fwd = 2.0 * n * cout * o * o * cin * k * k / 1e9;
        boolean heavy = fwd > 0.5;
        w.add(new Workload(id + "-fwd", "conv", "conv2d forward, " + shape, fwd, n, "images", warm, rep, heavy,
                sn -> conv(sn, n, cin, cout, hw, k, pad, false)));
        w.add(new Workload(id + "-fwdbwd", "conv", "conv2d forward+backward (dx, dw, db), " + shape, 3 * fwd, n, "images",
                warm, rep, heavy, sn -> conv(sn, n, cin, cout, hw, k, pad, true)));
    }

    static Workload.Step conv(Sinew sn, int n, int cin, int cout, int hw, int k, int pad, boolean backward) {
        Scope setup = sn.scope();
        Generator g = sn.generator(2);
        Backend b = sn.backend();
        Conv2dParams p = new Conv2dParams(1, 1, pad, pad, pad, pad, 1, 1, 1);
        int o = hw + 2 * pad - k + 1;
        View x = sn.randn(g, DType.FLOAT32, n, cin, hw, hw).storageView();
        View wt = sn.randn(g, DType.FLOAT32, cout, cin, k, k).storageView();
        View bias = sn.randn(g, DType.FLOAT32, cout).storageView();
        View out = sn.zeros(DType.FLOAT32, n, cout, o, o).storageView();
        View dy = sn.randn(g, DType.FLOAT32, n, cout, o, o).storageView();
        View dx = sn.zeros(DType.FLOAT32, n, cin, hw, hw).storageView();
        View dw = sn.zeros(DType.FLOAT32, cout, cin, k, k).storageView();
        View db = sn.zeros(DType.FLOAT32, cout).storageView();
        return new Holder(setup, List.of(), () -> {
            b.conv2d(x, wt, bias, out, p);
            if (backward) {
                b.conv2dBackwardData(dy, wt, dx, p);
                b.conv2dBackwardFilter(x, dy, dw, db, p);
            }
            b.synchronize();
        });
    }

    static Workload.Step rnn(Sinew sn, String kind, boolean backward) {
        Scope setup = sn.scope();
        Generator g = sn.generator(3);
        RnnOptions opts = RnnOptions.of(RNN_IN, RNN_HIDDEN);
        RNNBase layer = switch (kind) {
            case "lstm" -> new LSTM(sn, opts, g);
            case "gru" -> new GRU(sn, opts, g);
            default -> new RNN(sn, opts, RNN.Nonlinearity.TANH, g);
        };
        Tensor x = sn.randn(g, DType.FLOAT32, RNN_SEQ, RNN_BATCH, RNN_IN);           // [T, B, I]
        Tensor dy = sn.randn(g, DType.FLOAT32, RNN_SEQ, RNN_BATCH, RNN_HIDDEN);      // [T, B, H]
        if (backward) {
            x.requiresGrad(true);
        }
        return new Holder(setup, List.of(layer), () -> {
            try (Scope s = sn.scope()) {
                if (backward) {
                    layer.zeroGrad();
                    x.zeroGrad();
                    RnnOutput o = layer.forward(x, null);
                    o.output().backward(dy);
                } else {
                    try (NoGrad ng = sn.noGrad()) {
                        layer.forward(x, null);
                    }
                }
                sn.backend().synchronize();
            }
        });
    }

    static Workload.Step softmaxCe(Sinew sn) {
        Scope setup = sn.scope();
        Generator g = sn.generator(4);
        Tensor logits = sn.randn(g, DType.FLOAT32, 4096, 1000).requiresGrad(true);
        Tensor y = sn.fromArray(labels(4096, 1000, 4), 4096);
        return new Holder(setup, List.of(), () -> {
            try (Scope s = sn.scope()) {
                logits.zeroGrad();
                Losses.crossEntropy(logits, y).backward();
                sn.backend().synchronize();
            }
        });
    }

    static Workload.Step adam(Sinew sn) {
        Scope setup = sn.scope();
        Generator g = sn.generator(5);
        Tensor p = sn.randn(g, DType.FLOAT32, 10_000_000).requiresGrad(true);
        Tensor r = sn.randn(g, DType.FLOAT32, 10_000_000);
        try (Scope s = sn.scope()) {
            p.mul(r).sum().backward();                       // grad = r: random, never zero
        }
        Adam opt = new Adam(List.of(p), 1e-3);
        return new Holder(setup, List.of(opt), () -> {
            opt.step();
            sn.backend().synchronize();
        });
    }

    private static Workload.Step classifierStep(Sinew sn, Module model, Tensor x, Tensor y, Scope setup) {
        Adam opt = new Adam(model.parameters(), 1e-3);
        return new Holder(setup, List.of(model, opt), () -> {
            try (Scope s = sn.scope()) {
                opt.zeroGrad();
                Losses.crossEntropy(model.forward(x), y).backward();
                opt.step();
                sn.backend().synchronize();
            }
        });
    }

    static Workload.Step mlp(Sinew sn) {
        Scope setup = sn.scope();
        Generator g = sn.generator(6);
        Module model = Models.mlp(sn, g);
        Tensor x = sn.randn(g, DType.FLOAT32, 128, 784);
        return classifierStep(sn, model, x, sn.fromArray(labels(128, 10, 6), 128), setup);
    }

    static Workload.Step lenet(Sinew sn) {
        Scope setup = sn.scope();
        Generator g = sn.generator(7);
        Module model = new LeNet5(sn, g);
        Tensor x = sn.randn(g, DType.FLOAT32, 64, 1, 28, 28);
        return classifierStep(sn, model, x, sn.fromArray(labels(64, 10, 7), 64), setup);
    }

    static Workload.Step charLstm(Sinew sn) {
        Scope setup = sn.scope();
        Generator g = sn.generator(8);
        int b = 32, t = 64;
        CharLstm model = new CharLstm(sn, CHAR_VOCAB, CHAR_EMBED, 256, g);
        Tensor ids = sn.fromArray(labels(b * t, CHAR_VOCAB, 8), b, t);                 // [B, T]
        Tensor next = sn.fromArray(labels(b * t, CHAR_VOCAB, 9), (long) b * t);          // [B·T]
        List<Tensor> params = model.parameters();
        Adam opt = new Adam(params, 1e-3);
        return new Holder(setup, List.of(model, opt), () -> {
            try (Scope s = sn.scope()) {
                opt.zeroGrad();
                Tensor logits = model.forward(ids).reshape((long) b * t, CHAR_VOCAB);   // [B·T, V]
                Losses.crossEntropy(logits, next).backward();
                GradClip.clipGradNorm(params, 5.0);
                opt.step();
                sn.backend().synchronize();
            }
        });
    }
}
