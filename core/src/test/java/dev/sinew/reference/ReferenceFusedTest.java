package dev.sinew.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.spi.BackendOptions;
import dev.sinew.spi.FusedOps;
import dev.sinew.spi.Philox;
import dev.sinew.spi.View;
import dev.sinew.testing.Layout;
import dev.sinew.testing.RandomData;
import dev.sinew.testing.Tolerance;
import dev.sinew.testing.Views;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Pins the fused ops as the reference backend runs them (the composed defaults) to hand-written
 * double loops that follow PyTorch: softmax and log-softmax forward and backward (also against
 * finite differences), cross-entropy with label smoothing and ignore_index (against a known value,
 * loops and finite differences), dropout against Philox, and three steps of SGD, Adam, AdamW and
 * RMSprop against loops written the way {@code torch.optim} writes them.
 */
class ReferenceFusedTest {
    private ReferenceBackend b;
    private final List<View> owned = new ArrayList<>();
    private final SplittableRandom rnd = new SplittableRandom(77);

    @BeforeEach
    void open() {
        b = new ReferenceBackend(new BackendOptions(1, true));
    }

    @AfterEach
    void close() {
        for (View v : owned) {
            v.storage().release();
        }
        owned.clear();
        assertEquals(0, b.liveBuffers(), "live buffers after the test (fused ops must release their temporaries)");
        b.close();
    }

    private View of(DType dt, double[] data, long... shape) {
        View v = Views.fromDoubles(b, dt, data, shape);
        owned.add(v);
        return v;
    }

    private View of(double[] data, long... shape) {
        return of(DType.FLOAT64, data, shape);
    }

    private View labels(long... values) {
        View v = Views.fromLongs(b, values, values.length);
        owned.add(v);
        return v;
    }

    private View zeros(long... shape) {
        return of(new double[Math.toIntExact(Views.numel(shape))], shape);
    }

    // ---- loops -------------------------------------------------------------------------------

    /** Row-wise softmax / log-softmax of {@code x [rows, cols]}, max subtracted. */
    static double[] softmaxLoop(double[] x, int rows, int cols, boolean log) {
        double[] y = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                max = Math.max(max, x[r * cols + c]);
            }
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                sum += Math.exp(x[r * cols + c] - max);
            }
            for (int c = 0; c < cols; c++) {
                double z = x[r * cols + c] - max;
                y[r * cols + c] = log ? z - Math.log(sum) : Math.exp(z) / sum;
            }
        }
        return y;
    }

    /** Per-row cross-entropy as {@code torch.nn.functional.cross_entropy(reduction='none')}. */
    static double[] crossEntropyLoop(double[] logits, long[] labels, int n, int c, long ignore, double eps) {
        double[] logp = softmaxLoop(logits, n, c, true);
        double[] loss = new double[n];
        for (int i = 0; i < n; i++) {
            if (labels[i] == ignore) {
                continue;
            }
            double nll = -logp[i * c + (int) labels[i]];
            double smooth = 0;
            for (int k = 0; k < c; k++) {
                smooth -= logp[i * c + k];
            }
            loss[i] = (1 - eps) * nll + eps / c * smooth;
        }
        return loss;
    }

    /** Central differences of {@code f} (a scalar function) at {@code x}. */
    static double[] numericGradient(Function<double[], Double> f, double[] x) {
        double h = 1e-6;
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double[] p = x.clone();
            double[] m = x.clone();
            p[i] += h;
            m[i] -= h;
            g[i] = (f.apply(p) - f.apply(m)) / (2 * h);
        }
        return g;
    }

    private static double dot(double[] a, double[] c) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * c[i];
        }
        return s;
    }

    // ---- softmax -----------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void softmaxMatchesLoops(boolean log) {
        int rows = 5;
        int cols = 7;
        double[] x = RandomData.doubles(rnd, RandomData.Domain.LOGITS, rows * cols);
        double[] expected = softmaxLoop(x, rows, cols, log);
        // contiguous input, and the same values through a transposed (column-major) view
        View in = of(x, rows, cols);
        View out = zeros(rows, cols);
        b.softmax(in, out, log);
        Tolerance.assertClose("softmax log=" + log, expected, Views.toDoubles(out), 1e-15, 1e-14);
        double[] xt = new double[x.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                xt[c * rows + r] = x[r * cols + c];
            }
        }
        View t = of(xt, cols, rows);
        View tv = t.with(0, new long[] {rows, cols}, new long[] {1, rows});
        b.softmax(tv, out, log);
        Tolerance.assertClose("softmax of a transposed view log=" + log, expected, Views.toDoubles(out), 1e-15, 1e-14);
        // float32: the same to float precision
        View in32 = of(DType.FLOAT32, x, rows, cols);
        View out32 = of(DType.FLOAT32, new double[rows * cols], rows, cols);
        b.softmax(in32, out32, log);
        Tolerance.assertClose("softmax float32 log=" + log, softmaxLoop(Views.toDoubles(in32), rows, cols, log),
                Views.toDoubles(out32), 1e-6, 1e-6);
    }

    @Test
    void softmaxIsStableForHugeLogitsAndWorksOnRank3() {
        double[] x = {1000, 1001, 1002, -1000, -1001, -1002, 0, 0, 0, 5, -5, 0};
        View in = of(x, 2, 2, 3);
        View out = zeros(2, 2, 3);
        b.softmax(in, out, false);
        Tolerance.assertClose("softmax huge", softmaxLoop(x, 4, 3, false), Views.toDoubles(out), 1e-15, 1e-14);
        b.softmax(in, out, true);
        Tolerance.assertClose("log-softmax huge", softmaxLoop(x, 4, 3, true), Views.toDoubles(out), 1e-13, 1e-14);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void softmaxBackwardMatchesFormulaAndFiniteDifferences(boolean log) {
        int rows = 3;
        int cols = 5;
        double[] x = RandomData.doubles(rnd, RandomData.Domain.ANY, rows * cols);
        double[] dy = RandomData.doubles(rnd, RandomData.Domain.ANY, rows * cols);
        double[] y = softmaxLoop(x, rows, cols, log);
        View dx = zeros(rows, cols);
        b.softmaxBackward(of(y, rows, cols), of(dy, rows, cols), dx, log);
        double[] formula = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int c = 0; c < cols; c++) {
                s += log ? dy[r * cols + c] : dy[r * cols + c] * y[r * cols + c];
            }
            for (int c = 0; c < cols; c++) {
                int i = r * cols + c;
                formula[i] = log ? dy[i] - Math.exp(y[i]) * s : y[i] * (dy[i] - s);
            }
        }
        Tolerance.assertClose("softmax backward formula", formula, Views.toDoubles(dx), 1e-14, 1e-13);
        double[] numeric = numericGradient(xs -> dot(dy, softmaxLoop(xs, rows, cols, log)), x);
        Tolerance.assertClose("softmax backward vs finite differences", numeric, Views.toDoubles(dx), 1e-8, 1e-6);
    }

    // ---- cross-entropy -----------------------------------------------------------------------

    @Test
    void crossEntropyMatchesAKnownValue() {
        // torch.nn.functional.cross_entropy([[1, 2, 3]], [2]) = log(1 + e^-1 + e^-2); with
        // label_smoothing 0.1 it is exactly 0.1 more (the mean of -log p over the 3 classes is L + 1)
        double l = Math.log(1 + Math.exp(-1) + Math.exp(-2));
        assertEquals(0.40760596444438, l, 1e-13);
        View logits = of(new double[] {1, 2, 3}, 1, 3);
        View loss = zeros(1);
        View probs = zeros(1, 3);
        b.softmaxCrossEntropy(logits, labels(2), loss, probs, -100, 0.0);
        assertEquals(l, Views.toDoubles(loss)[0], 1e-15);
        b.softmaxCrossEntropy(logits, labels(2), loss, probs, -100, 0.1);
        assertEquals(l + 0.1, Views.toDoubles(loss)[0], 1e-15);
        Tolerance.assertClose("probs", softmaxLoop(new double[] {1, 2, 3}, 1, 3, false), Views.toDoubles(probs), 1e-16,
                1e-15);
    }

    @Test
    void crossEntropyWithSmoothingAndIgnoreIndexMatchesLoops() {
        int n = 6;
        int c = 4;
        double[] x = RandomData.doubles(rnd, RandomData.Domain.LOGITS, n * c);
        for (long ignore : new long[] {-100, 2}) {
            long[] y = {0, 3, ignore, 1, 2, ignore == -100 ? -100 : 0};
            for (double eps : new double[] {0, 0.1, 0.4}) {
                View loss = zeros(n);
                View probs = zeros(n, c);
                b.softmaxCrossEntropy(of(x, n, c), labels(y), loss, probs, ignore, eps);
                String what = "cross-entropy ignore " + ignore + " smoothing " + eps;
                double[] got = Views.toDoubles(loss);
                Tolerance.assertClose(what, crossEntropyLoop(x, y, n, c, ignore, eps), got, 1e-14, 1e-13);
                for (int i = 0; i < n; i++) {
                    if (y[i] == ignore) {
                        assertEquals(0.0, got[i], what + ": ignored row " + i + " has loss 0");
                    }
                }
                Tolerance.assertClose(what + " probs", softmaxLoop(x, n, c, false), Views.toDoubles(probs), 1e-15, 1e-14);
            }
        }
    }

    @Test
    void crossEntropyBackwardMatchesFormulaAndFiniteDifferences() {
        int n = 5;
        int c = 3;
        double[] x = RandomData.doubles(rnd, RandomData.Domain.ANY, n * c);
        long ignore = -100;
        long[] y = {2, -100, 0, 1, 1};
        double eps = 0.2;
        double[] dLoss = RandomData.doubles(rnd, RandomData.Domain.ANY, n);
        double[] p = softmaxLoop(x, n, c, false);
        View dLogits = zeros(n, c);
        b.softmaxCrossEntropyBackward(of(p, n, c), labels(y), of(dLoss, n), dLogits, ignore, eps);
        double[] got = Views.toDoubles(dLogits);
        double[] formula = new double[n * c];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < c; k++) {
                double target = (k == y[i] ? 1 - eps : 0) + eps / c;
                formula[i * c + k] = y[i] == ignore ? 0 : dLoss[i] * (p[i * c + k] - target);
            }
        }
        Tolerance.assertClose("cross-entropy backward formula", formula, got, 1e-15, 1e-14);
        double[] numeric = numericGradient(xs -> dot(dLoss, crossEntropyLoop(xs, y, n, c, ignore, eps)), x);
        Tolerance.assertClose("cross-entropy backward vs finite differences", numeric, got, 1e-8, 1e-6);

        // a broadcast dLoss (the backward of a mean: one value, stride 0)
        View one = of(new double[] {0.25}, 1);
        b.softmaxCrossEntropyBackward(of(p, n, c), labels(y), one.with(0, new long[] {n}, new long[] {0}), dLogits,
                ignore, eps);
        double[] scaled = Arrays.stream(formula).toArray();
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < c; k++) {
                scaled[i * c + k] = y[i] == ignore ? 0 : formula[i * c + k] / dLoss[i] * 0.25;
            }
        }
        Tolerance.assertClose("cross-entropy backward, broadcast dLoss", scaled, Views.toDoubles(dLogits), 1e-14, 1e-12);
    }

    // ---- dropout -----------------------------------------------------------------------------

    @Test
    void dropoutUsesPhiloxUniformsAndScalesKeptElements() {
        long seed = 99;
        long offset = 1234;
        for (double p : new double[] {0, 0.3, 1}) {
            double[] x = RandomData.doubles(rnd, RandomData.Domain.ANY, 35);
            View in = of(x, 5, 7);
            View outT = zeros(7, 5);
            View out = outT.with(0, new long[] {5, 7}, new long[] {1, 5}); // written through a transposed view
            View mask = zeros(5, 7);
            b.dropout(in, out, mask, p, seed, offset);
            double[] em = new double[35];
            double[] eo = new double[35];
            for (int i = 0; i < 35; i++) {
                em[i] = Philox.uniform(seed, offset + i) >= p ? 1 / (1 - p) : 0;
                eo[i] = x[i] * em[i];
            }
            Tolerance.EXACT.assertClose("dropout mask p=" + p, em, Views.toDoubles(mask));
            Tolerance.assertClose("dropout out p=" + p, eo, Views.toDoubles(out), 0, 1e-16);
        }
        View big = zeros(4099);
        View bigOut = zeros(4099);
        View bigMask = zeros(4099);
        b.fill(big, 1);
        b.dropout(big, bigOut, bigMask, 0.25, 5, 0);
        long dropped = Arrays.stream(Views.toDoubles(bigMask)).filter(v -> v == 0).count();
        assertTrue(Math.abs(dropped / 4099.0 - 0.25) < 0.03, "dropped fraction " + dropped / 4099.0);
    }

    // ---- optimisers --------------------------------------------------------------------------

    private static final long[][] PARAM_SHAPES = {{3, 4}, {5}};
    private static final int STEPS = 3;

    /** Parameters (and state) as Java arrays, one per {@link #PARAM_SHAPES}, and matching views. */
    private final class State {
        final double[][] values;
        final List<View> views = new ArrayList<>();

        State(boolean random) {
            values = new double[PARAM_SHAPES.length][];
            for (int i = 0; i < PARAM_SHAPES.length; i++) {
                int n = Math.toIntExact(Views.numel(PARAM_SHAPES[i]));
                values[i] = random ? RandomData.doubles(rnd, RandomData.Domain.ANY, n) : new double[n];
                views.add(of(values[i], PARAM_SHAPES[i]));
            }
        }

        void assertMatches(String what) {
            for (int i = 0; i < values.length; i++) {
                Tolerance.assertClose(what + "[" + i + "]", values[i], Views.toDoubles(views.get(i)), 1e-14, 1e-12);
            }
        }
    }

    @Test
    void sgdMatchesTorchOverThreeSteps() {
        double lr = 0.1;
        double[][] configs = { // momentum, dampening, nesterov (0/1), weight decay
            {0, 0, 0, 0}, {0, 0, 0, 0.05}, {0.9, 0, 0, 0}, {0.9, 0.25, 0, 0.05}, {0.9, 0, 1, 0}, {0.8, 0, 1, 0.05},
        };
        for (double[] cfgv : configs) {
            double mu = cfgv[0];
            double damp = cfgv[1];
            boolean nesterov = cfgv[2] != 0;
            double wd = cfgv[3];
            State params = new State(true);
            State bufs = new State(false);
            for (int step = 1; step <= STEPS; step++) {
                State grads = new State(true);
                FusedOps.SgdConfig cfg = new FusedOps.SgdConfig(lr, mu, damp, nesterov, wd, step == 1);
                b.sgdStep(params.views, grads.views, mu != 0 ? bufs.views : List.of(), cfg);
                for (int i = 0; i < PARAM_SHAPES.length; i++) { // torch.optim.SGD, _single_tensor_sgd
                    double[] p = params.values[i];
                    double[] buf = bufs.values[i];
                    double[] g0 = grads.values[i];
                    for (int j = 0; j < p.length; j++) {
                        double g = g0[j];
                        if (wd != 0) {
                            g = g + wd * p[j];
                        }
                        if (mu != 0) {
                            buf[j] = step == 1 ? g : buf[j] * mu + (1 - damp) * g;
                            g = nesterov ? g + mu * buf[j] : buf[j];
                        }
                        p[j] = p[j] - lr * g;
                    }
                }
                String what = "sgd " + cfg + " step " + step;
                params.assertMatches(what + " param");
                if (mu != 0) {
                    bufs.assertMatches(what + " momentum");
                }
                grads.assertMatches(what + " grad unchanged");
            }
        }
    }

    @Test
    void adamAndAdamWMatchTorchOverThreeSteps() {
        double lr = 0.01;
        double beta1 = 0.9;
        double beta2 = 0.999;
        double eps = 1e-8;
        for (boolean decoupled : new boolean[] {false, true}) {
            for (double wd : new double[] {0, 0.1}) {
                State params = new State(true);
                State m = new State(false);
                State v = new State(false);
                for (int step = 1; step <= STEPS; step++) {
                    State grads = new State(true);
                    FusedOps.AdamConfig cfg = new FusedOps.AdamConfig(lr, beta1, beta2, eps, wd, decoupled, step);
                    b.adamStep(params.views, grads.views, m.views, v.views, cfg);
                    // torch.optim.Adam / AdamW, _single_tensor_adam(w), amsgrad off
                    double bc1 = 1 - Math.pow(beta1, step);
                    double bc2 = 1 - Math.pow(beta2, step);
                    double stepSize = lr / bc1;
                    double bc2Sqrt = Math.sqrt(bc2);
                    for (int i = 0; i < PARAM_SHAPES.length; i++) {
                        double[] p = params.values[i];
                        double[] g0 = grads.values[i];
                        double[] mi = m.values[i];
                        double[] vi = v.values[i];
                        for (int j = 0; j < p.length; j++) {
                            double g = g0[j];
                            if (decoupled) {
                                p[j] *= 1 - lr * wd;
                            } else if (wd != 0) {
                                g = g + wd * p[j];
                            }
                            mi[j] += (g - mi[j]) * (1 - beta1); // lerp_
                            vi[j] = vi[j] * beta2 + (1 - beta2) * g * g;
                            double denom = Math.sqrt(vi[j]) / bc2Sqrt + eps;
                            p[j] += -stepSize * mi[j] / denom;
                        }
                    }
                    String what = "adam " + cfg;
                    params.assertMatches(what + " param");
                    m.assertMatches(what + " m");
                    v.assertMatches(what + " v");
                }
            }
        }
    }

    @Test
    void rmspropMatchesTorchOverThreeSteps() {
        double lr = 0.01;
        double alpha = 0.99;
        double eps = 1e-8;
        for (boolean centered : new boolean[] {false, true}) {
            for (double mu : new double[] {0, 0.9}) {
                for (double wd : new double[] {0, 0.1}) {
                    State params = new State(true);
                    State sq = new State(false);
                    State buf = new State(false);
                    State ga = new State(false);
                    for (int step = 1; step <= STEPS; step++) {
                        State grads = new State(true);
                        FusedOps.RmsPropConfig cfg = new FusedOps.RmsPropConfig(lr, alpha, eps, wd, mu, centered);
                        b.rmspropStep(params.views, grads.views, sq.views, mu != 0 ? buf.views : List.of(),
                                centered ? ga.views : List.of(), cfg);
                        for (int i = 0; i < PARAM_SHAPES.length; i++) { // torch.optim.RMSprop, _single_tensor_rmsprop
                            double[] p = params.values[i];
                            double[] g0 = grads.values[i];
                            for (int j = 0; j < p.length; j++) {
                                double g = g0[j];
                                if (wd != 0) {
                                    g = g + wd * p[j];
                                }
                                sq.values[i][j] = sq.values[i][j] * alpha + (1 - alpha) * g * g;
                                double avg;
                                if (centered) {
                                    ga.values[i][j] += (g - ga.values[i][j]) * (1 - alpha); // lerp_
                                    avg = Math.sqrt(sq.values[i][j] - ga.values[i][j] * ga.values[i][j]) + eps;
                                } else {
                                    avg = Math.sqrt(sq.values[i][j]) + eps;
                                }
                                if (mu > 0) {
                                    buf.values[i][j] = buf.values[i][j] * mu + g / avg;
                                    p[j] += -lr * buf.values[i][j];
                                } else {
                                    p[j] += -lr * g / avg;
                                }
                            }
                        }
                        String what = "rmsprop " + cfg + " step " + step;
                        params.assertMatches(what + " param");
                        sq.assertMatches(what + " squareAvg");
                        if (mu != 0) {
                            buf.assertMatches(what + " momentumBuf");
                        }
                        if (centered) {
                            ga.assertMatches(what + " gradAvg");
                        }
                    }
                }
            }
        }
    }

    @Test
    void stridedParametersAreUpdatedInPlaceWithoutTouchingGaps() {
        // a [2, 3] parameter that is a window of a [4, 5] storage
        Layout.Geometry g = Layout.SLICED.geometry(2, 3);
        double[] storage = new double[Math.toIntExact(g.elements())];
        Arrays.fill(storage, 7);
        View p = Views.withGeometry(b, DType.FLOAT64, g, storage, 2, 3);
        owned.add(p);
        View grad = of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        b.sgdStep(List.of(p), List.of(grad), List.of(), new FusedOps.SgdConfig(0.5, 0, 0, false, 0, true));
        Tolerance.EXACT.assertClose("param", new double[] {6.5, 6, 5.5, 5, 4.5, 4}, Views.toDoubles(p));
        double[] whole = Views.toDoubles(Views.wholeStorage(p));
        long touched = Arrays.stream(whole).filter(v -> v != 7).count();
        assertEquals(6, touched, "only the view's elements change");
    }
}
