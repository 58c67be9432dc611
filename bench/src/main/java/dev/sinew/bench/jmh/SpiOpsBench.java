package dev.sinew.bench.jmh;

import dev.sinew.DType;
import dev.sinew.Generator;
import dev.sinew.NoGrad;
import dev.sinew.Scope;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.nn.LSTM;
import dev.sinew.spi.Backend;
import dev.sinew.spi.BackendOptions;
import dev.sinew.spi.BinaryOp;
import dev.sinew.spi.Distribution;
import dev.sinew.spi.FusedOps.AdamConfig;
import dev.sinew.spi.FusedOps.Conv2dParams;
import dev.sinew.spi.FusedOps.Pool2dParams;
import dev.sinew.spi.ReduceOp;
import dev.sinew.spi.UnaryOp;
import dev.sinew.spi.View;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One JMH benchmark per SPI op family — memory (copy, fill), random, unary, binary, reduce, where,
 * matmul, softmax / cross-entropy, optimiser steps, conv2d, pooling and RNN (through {@code nn.LSTM})
 * — on each backend ({@code -p backend=cpu,reference}). Times are milliseconds per call, the unit of
 * {@code sinew bench}; shapes are printed in each method's comment. A backend that is not available
 * here fails the trial in setup with its reason (JMH reports it and goes on). State is per trial and
 * single-threaded ({@code Scope.Benchmark} with one benchmark thread).
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class SpiOpsBench {
    private static final int N = 1 << 20;   // elementwise ops: 1 M float32
    private static final int MM = 512;      // matmul: 512³

    @Param({"cpu", "reference"})
    public String backend;

    private Sinew sn;
    private Scope scope;
    private Backend b;
    private View x, y, z, cond, xt, sq;
    private View a, bm, c;
    private View logits, labels, loss, probs;
    private View cx, cw, cb, cy, px, py;
    private List<View> params, grads, m1, m2;
    private LSTM lstm;
    private Tensor seq;
    private long step;

    @Setup(Level.Trial)
    public void setup() {
        sn = Sinew.use(backend, BackendOptions.defaults());
        scope = sn.scope();
        b = sn.backend();
        Generator g = sn.generator(1);
        x = sn.randn(g, DType.FLOAT32, N).storageView();
        y = sn.randn(g, DType.FLOAT32, N).storageView();
        z = sn.zeros(DType.FLOAT32, N).storageView();
        cond = sn.rand(g, DType.FLOAT32, N).storageView();
        Tensor square = sn.randn(g, DType.FLOAT32, 1024, 1024);
        xt = square.transpose(0, 1).storageView();                          // [1024, 1024] strided
        sq = sn.zeros(DType.FLOAT32, 1024, 1024).storageView();
        a = batch(sn.randn(g, DType.FLOAT32, MM, MM).storageView());
        bm = batch(sn.randn(g, DType.FLOAT32, MM, MM).storageView());
        c = batch(sn.zeros(DType.FLOAT32, MM, MM).storageView());
        logits = sn.randn(g, DType.FLOAT32, 4096, 1000).storageView();     // [4096, 1000]
        long[] lab = new long[4096];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < lab.length; i++) {
            lab[i] = r.nextInt(1000);
        }
        labels = sn.fromArray(lab, 4096).storageView();
        loss = sn.zeros(DType.FLOAT32).storageView();
        probs = sn.zeros(DType.FLOAT32, 4096, 1000).storageView();
        cx = sn.randn(g, DType.FLOAT32, 64, 6, 14, 14).storageView();     // conv2 of the CNN issue
        cw = sn.randn(g, DType.FLOAT32, 16, 6, 5, 5).storageView();
        cb = sn.randn(g, DType.FLOAT32, 16).storageView();
        cy = sn.zeros(DType.FLOAT32, 64, 16, 10, 10).storageView();
        px = sn.randn(g, DType.FLOAT32, 64, 6, 28, 28).storageView();     // LeNet's first pool
        py = sn.zeros(DType.FLOAT32, 64, 6, 14, 14).storageView();
        params = List.of(sn.randn(g, DType.FLOAT32, N).storageView());
        grads = List.of(sn.randn(g, DType.FLOAT32, N).storageView());
        m1 = List.of(sn.zeros(DType.FLOAT32, N).storageView());
        m2 = List.of(sn.zeros(DType.FLOAT32, N).storageView());
        lstm = new LSTM(sn, 128, 256, g);
        seq = sn.randn(g, DType.FLOAT32, 64, 32, 128);                     // [T, B, I]
    }

    private static View batch(View v) {
        return v.with(v.offset(), new long[] {1, v.shape()[0], v.shape()[1]}, new long[] {0, v.strides()[0], v.strides()[1]});
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        lstm.close();
        scope.close();
        sn.close();
    }

    /** memory: strided copy, a 1024² transpose. */
    @Benchmark
    public void copyTranspose() {
        b.copy(xt, sq);
    }

    /** memory: fill 1 M. */
    @Benchmark
    public void fill() {
        b.fill(z, 0.5);
    }

    /** random: 1 M normal samples. */
    @Benchmark
    public void randomNormal() {
        b.random(z, Distribution.NORMAL, 0, 1, 7, step++);
    }

    /** unary: tanh of 1 M. */
    @Benchmark
    public void unaryTanh() {
        b.unary(UnaryOp.TANH, x, z);
    }

    /** binary: add of 1 M. */
    @Benchmark
    public void binaryAdd() {
        b.binary(BinaryOp.ADD, x, y, z);
    }

    /** reduce: sum of 1 M. */
    @Benchmark
    public void reduceSum() {
        b.reduce(ReduceOp.SUM, x, loss.with(loss.offset(), new long[] {1}, new long[] {1}));
    }

    /** where: select over 1 M. */
    @Benchmark
    public void where() {
        b.where(cond, x, y, z);
    }

    /** matmul: [512, 512]·[512, 512]. */
    @Benchmark
    public void matmul() {
        b.matmul(a, bm, c);
        b.synchronize();
    }

    /** softmax: [4096, 1000] rows. */
    @Benchmark
    public void softmax() {
        b.softmax(logits, probs, false);
    }

    /** cross-entropy forward: [4096, 1000] logits. */
    @Benchmark
    public void softmaxCrossEntropy() {
        b.softmaxCrossEntropy(logits, labels, loss, probs, -100, 0);
    }

    /** optimiser: one Adam step on 1 M parameters. */
    @Benchmark
    public void adamStep() {
        b.adamStep(params, grads, m1, m2, new AdamConfig(1e-3, 0.9, 0.999, 1e-8, 0, false, 1 + step++));
    }

    /** conv: forward, N64 6→16 14×14 k5. */
    @Benchmark
    public void conv2d() {
        b.conv2d(cx, cw, cb, cy, new Conv2dParams(1, 1, 0, 0, 0, 0, 1, 1, 1));
    }

    /** pooling: max-pool 2×2 of [64, 6, 28, 28]. */
    @Benchmark
    public void maxPool2d() {
        b.maxPool2d(px, py, Pool2dParams.of(2, 2, 2, 2, 0, 0, 1, 1, false, true));
    }

    /** rnn: one LSTM layer forward (T64 B32 I128 H256), no grad. */
    @Benchmark
    public void lstmForward() {
        try (Scope s = sn.scope(); NoGrad ng = sn.noGrad()) {
            lstm.forward(seq);
        }
    }
}
