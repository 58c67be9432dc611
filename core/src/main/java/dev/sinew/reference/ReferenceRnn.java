package dev.sinew.reference;

import dev.sinew.DType;
import dev.sinew.spi.FusedOps.RnnMode;
import dev.sinew.spi.FusedOps.RnnParams;
import dev.sinew.spi.HostStorage;
import dev.sinew.spi.View;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

/**
 * The reference definition of the whole-sequence recurrent op ({@link dev.sinew.spi.FusedOps#rnnForward}
 * and {@link dev.sinew.spi.FusedOps#rnnBackward}): plain loops over layers, directions, steps,
 * sequences and units that read the formulas literally, in double, with every output rounded once
 * when stored. The composed default in {@code dev.sinew.spi.ComposedRnn} is tested against these.
 *
 * <p>The backward does not read a reserve: it runs the forward again in double, keeping every
 * step's gates and states, and then back-propagates through time (so {@link #RESERVE} is 0 and the
 * result does not depend on how a forward rounded its intermediates). Sums over the batch and over
 * time accumulate in double in loop order.
 *
 * <p>Operands are views of host storage, read and written through their strides. Stateless and
 * thread-safe.
 */
final class ReferenceRnn {
    /** Elements of reserve the reference keeps: none (its backward recomputes the forward). */
    static final long RESERVE = 0;

    private ReferenceRnn() {
    }

    static void forward(RnnParams p, long[] lengths, View x, View h0, View c0, List<View> weights, View y, View hN,
            View cN) {
        long[] tb = p.check("rnnForward", lengths, x, h0, c0, weights, y, hN, cN);
        Pass pass = new Pass(p, lengths, tb, x, h0, c0, weights);
        pass.forward();
        write(y, pass.layerIn[p.numLayers()]);
        write(hN, pass.hN);
        if (cN != null) {
            write(cN, pass.cN);
        }
    }

    static void backward(RnnParams p, long[] lengths, View x, View h0, View c0, List<View> weights, View dy, View dhN,
            View dcN, View dx, View dh0, View dc0, List<View> dWeights) {
        String op = "rnnBackward";
        long[] tb = p.check(op, lengths, x, h0, c0, weights, dy, dhN, dcN);
        long b = tb[1];
        requireShape(op, "dx", dx, x.shape());
        requireShape(op, "dh0", dh0, p.hiddenShape(b));
        requireShape(op, "dc0", dc0, p.cellShape(b));
        if (dc0 != null && p.mode() != RnnMode.LSTM) {
            throw new IllegalArgumentException(op + ": dc0 is only for LSTM, not " + p.mode());
        }
        if (dWeights != null) {
            p.checkWeights(op, dWeights, x.dtype());
        }
        Pass pass = new Pass(p, lengths, tb, x, h0, c0, weights);
        pass.forward();
        pass.backward(read(dy), read(dhN), dcN == null ? null : read(dcN));
        if (dx != null) {
            write(dx, pass.dIn);
        }
        if (dh0 != null) {
            write(dh0, pass.dh0);
        }
        if (dc0 != null) {
            write(dc0, pass.dc0);
        }
        if (dWeights != null) {
            for (int i = 0; i < dWeights.size(); i++) {
                write(dWeights.get(i), pass.dw[i]);
            }
        }
    }

    private static void requireShape(String op, String arg, View v, long[] shape) {
        if (v != null && !Arrays.equals(v.shape(), shape)) {
            throw new IllegalArgumentException(op + ": " + arg + " has shape " + Arrays.toString(v.shape())
                    + ", expected " + Arrays.toString(shape));
        }
    }

    // ---- one evaluation: the forward with its caches, then (optionally) the backward ----------

    /** Everything of one call, in double. Single-threaded; lives for one op. */
    private static final class Pass {
        final RnnParams p;
        final RnnMode mode;
        final int t;
        final int b;
        final int h;      // hidden size H
        final int ps;     // state size P
        final int gh;     // gates × H
        final int dirs;
        final int[] len;
        final double[][] w;
        final double[] h0;   // [L·D, B, P] or null
        final double[] c0;   // [L·D, B, H] or null
        /** layerIn[l]: the input of layer l ([T, B, in_l]); layerIn[L] is the output y ([T, B, D·P]). */
        final double[][] layerIn;
        final double[] hN;   // [L·D, B, P]
        final double[] cN;   // [L·D, B, H] (LSTM)
        /** Per layer and direction (index l·D + d), per step and sequence: */
        final double[][] gates;  // [T, B, G·H] activated gates (RNN: h'; GRU: r, z, n)
        final double[][] cNew;   // [T, B, H] LSTM c'
        final double[][] hPre;   // [T, B, H] LSTM o⊙tanh(c') before the projection
        final double[][] hgn;    // [T, B, H] GRU w_hn·h + b_hn
        final double[][] hPrev;  // [T, B, P] the state a step started from
        final double[][] cPrev;  // [T, B, H] LSTM
        // gradients
        double[] dIn;
        double[] dh0;
        double[] dc0;
        double[][] dw;

        Pass(RnnParams p, long[] lengths, long[] tb, View x, View h0, View c0, List<View> weights) {
            this.p = p;
            this.mode = p.mode();
            this.t = Math.toIntExact(tb[0]);
            this.b = Math.toIntExact(tb[1]);
            this.h = Math.toIntExact(p.hiddenSize());
            this.ps = Math.toIntExact(p.outSize());
            this.gh = Math.toIntExact(p.gateSize());
            this.dirs = p.directions();
            this.len = new int[b];
            for (int i = 0; i < b; i++) {
                len[i] = lengths == null ? t : (int) lengths[i];
            }
            this.w = new double[weights.size()][];
            for (int i = 0; i < w.length; i++) {
                w[i] = read(weights.get(i));
            }
            this.h0 = h0 == null ? null : read(h0);
            this.c0 = c0 == null ? null : read(c0);
            int layers = p.numLayers();
            this.layerIn = new double[layers + 1][];
            layerIn[0] = read(x);
            this.hN = new double[layers * dirs * b * ps];
            this.cN = new double[layers * dirs * b * h];
            int cells = layers * dirs;
            this.gates = new double[cells][];
            this.cNew = new double[cells][];
            this.hPre = new double[cells][];
            this.hgn = new double[cells][];
            this.hPrev = new double[cells][];
            this.cPrev = new double[cells][];
        }

        private int wIh(int l, int d) {
            return p.weightIndex(l, d);
        }

        private double[] bIh(int l, int d) {
            return p.bias() ? w[p.weightIndex(l, d) + 2] : null;
        }

        private double[] bHh(int l, int d) {
            return p.bias() ? w[p.weightIndex(l, d) + 3] : null;
        }

        private double[] wHr(int l, int d) {
            return p.projSize() > 0 ? w[p.weightIndex(l, d) + (p.bias() ? 4 : 2)] : null;
        }

        void forward() {
            for (int l = 0; l < p.numLayers(); l++) {
                layerIn[l + 1] = new double[t * b * dirs * ps];
                for (int d = 0; d < dirs; d++) {
                    forwardCell(l, d);
                }
            }
        }

        private void forwardCell(int l, int d) {
            int cell = l * dirs + d;
            int in = Math.toIntExact(p.layerInputSize(l));
            double[] x = layerIn[l];
            double[] out = layerIn[l + 1];
            double[] wih = w[wIh(l, d)];
            double[] whh = w[wIh(l, d) + 1];
            double[] bih = bIh(l, d);
            double[] bhh = bHh(l, d);
            double[] whr = wHr(l, d);
            double[] g = gates[cell] = new double[t * b * gh];
            double[] hp = hPrev[cell] = new double[t * b * ps];
            double[] cp = cPrev[cell] = new double[t * b * h];
            double[] cn = cNew[cell] = new double[t * b * h];
            double[] pre = hPre[cell] = new double[t * b * h];
            double[] hn = hgn[cell] = new double[t * b * h];
            double[] state = new double[b * ps];
            double[] cell0 = new double[b * h];
            if (h0 != null) {
                System.arraycopy(h0, cell * b * ps, state, 0, b * ps);
            }
            if (c0 != null) {
                System.arraycopy(c0, cell * b * h, cell0, 0, b * h);
            }
            double[] xg = new double[gh];
            double[] hg = new double[gh];
            double[] next = new double[ps];
            double[] hidden = new double[h];
            int outWidth = dirs * ps;
            for (int s = 0; s < t; s++) {
                int tt = d == 0 ? s : t - 1 - s;
                for (int bi = 0; bi < b; bi++) {
                    int row = tt * b + bi;
                    System.arraycopy(state, bi * ps, hp, row * ps, ps);
                    System.arraycopy(cell0, bi * h, cp, row * h, h);
                    if (tt >= len[bi]) {
                        continue; // past this sequence's end: state carried, output stays 0
                    }
                    for (int q = 0; q < gh; q++) {
                        double a = bih == null ? 0 : bih[q];
                        for (int k = 0; k < in; k++) {
                            a += wih[q * in + k] * x[row * in + k];
                        }
                        xg[q] = a;
                        double r = bhh == null ? 0 : bhh[q];
                        for (int k = 0; k < ps; k++) {
                            r += whh[q * ps + k] * state[bi * ps + k];
                        }
                        hg[q] = r;
                    }
                    int go = row * gh;
                    switch (mode) {
                        case RNN_TANH, RNN_RELU -> {
                            for (int j = 0; j < h; j++) {
                                double a = xg[j] + hg[j];
                                double v = mode == RnnMode.RNN_TANH ? Math.tanh(a) : (a > 0 ? a : 0);
                                g[go + j] = v;
                                next[j] = v;
                            }
                        }
                        case LSTM -> {
                            for (int j = 0; j < h; j++) {
                                double ig = sigmoid(xg[j] + hg[j]);
                                double fg = sigmoid(xg[h + j] + hg[h + j]);
                                double gg = Math.tanh(xg[2 * h + j] + hg[2 * h + j]);
                                double og = sigmoid(xg[3 * h + j] + hg[3 * h + j]);
                                g[go + j] = ig;
                                g[go + h + j] = fg;
                                g[go + 2 * h + j] = gg;
                                g[go + 3 * h + j] = og;
                                double c = fg * cell0[bi * h + j] + ig * gg;
                                cn[row * h + j] = c;
                                cell0[bi * h + j] = c;
                                hidden[j] = og * Math.tanh(c);
                                pre[row * h + j] = hidden[j];
                            }
                            if (whr != null) {
                                for (int q = 0; q < ps; q++) {
                                    double a = 0;
                                    for (int k = 0; k < h; k++) {
                                        a += whr[q * h + k] * hidden[k];
                                    }
                                    next[q] = a;
                                }
                            } else {
                                System.arraycopy(hidden, 0, next, 0, h);
                            }
                        }
                        case GRU -> {
                            for (int j = 0; j < h; j++) {
                                double r = sigmoid(xg[j] + hg[j]);
                                double z = sigmoid(xg[h + j] + hg[h + j]);
                                double n = Math.tanh(xg[2 * h + j] + r * hg[2 * h + j]);
                                g[go + j] = r;
                                g[go + h + j] = z;
                                g[go + 2 * h + j] = n;
                                hn[row * h + j] = hg[2 * h + j];
                                next[j] = (1 - z) * n + z * state[bi * ps + j];
                            }
                        }
                    }
                    System.arraycopy(next, 0, state, bi * ps, ps);
                    System.arraycopy(next, 0, out, row * outWidth + d * ps, ps);
                }
            }
            System.arraycopy(state, 0, hN, cell * b * ps, b * ps);
            System.arraycopy(cell0, 0, cN, cell * b * h, b * h);
        }

        /** Back-propagation through time from the upstream gradients (dcN null unless LSTM). */
        void backward(double[] dy, double[] dhN, double[] dcN) {
            dw = new double[w.length][];
            for (int i = 0; i < w.length; i++) {
                dw[i] = new double[w[i].length];
            }
            dh0 = new double[hN.length];
            dc0 = new double[cN.length];
            double[] dOut = dy;
            for (int l = p.numLayers() - 1; l >= 0; l--) {
                int in = Math.toIntExact(p.layerInputSize(l));
                double[] dInput = new double[t * b * in];
                for (int d = 0; d < dirs; d++) {
                    backwardCell(l, d, dOut, dInput, dhN, dcN);
                }
                dOut = dInput;
            }
            dIn = dOut;
        }

        private void backwardCell(int l, int d, double[] dOut, double[] dInput, double[] dhN, double[] dcN) {
            int cell = l * dirs + d;
            int in = Math.toIntExact(p.layerInputSize(l));
            double[] x = layerIn[l];
            int iw = wIh(l, d);
            double[] wih = w[iw];
            double[] whh = w[iw + 1];
            double[] whr = wHr(l, d);
            double[] dwih = dw[iw];
            double[] dwhh = dw[iw + 1];
            double[] dbih = p.bias() ? dw[iw + 2] : null;
            double[] dbhh = p.bias() ? dw[iw + 3] : null;
            double[] dwhr = whr == null ? null : dw[iw + (p.bias() ? 4 : 2)];
            double[] g = gates[cell];
            double[] dh = Arrays.copyOfRange(dhN, cell * b * ps, (cell + 1) * b * ps);
            double[] dc = dcN == null ? new double[b * h] : Arrays.copyOfRange(dcN, cell * b * h, (cell + 1) * b * h);
            double[] gOut = new double[ps];
            double[] gHidden = new double[h];
            double[] dxg = new double[gh];
            double[] dhg = new double[gh];
            double[] direct = new double[ps];
            int outWidth = dirs * ps;
            for (int s = t - 1; s >= 0; s--) {
                int tt = d == 0 ? s : t - 1 - s;
                for (int bi = 0; bi < b; bi++) {
                    if (tt >= len[bi]) {
                        continue; // the state passed through this step untouched, and so does its gradient
                    }
                    int row = tt * b + bi;
                    int go = row * gh;
                    for (int j = 0; j < ps; j++) {
                        gOut[j] = dOut[row * outWidth + d * ps + j] + dh[bi * ps + j];
                    }
                    Arrays.fill(direct, 0);
                    switch (mode) {
                        case RNN_TANH, RNN_RELU -> {
                            for (int j = 0; j < h; j++) {
                                double v = g[go + j];
                                double da = gOut[j] * (mode == RnnMode.RNN_TANH ? 1 - v * v : (v > 0 ? 1 : 0));
                                dxg[j] = da;
                                dhg[j] = da;
                            }
                        }
                        case LSTM -> {
                            if (whr != null) {
                                double[] pre = hPre[cell];
                                for (int q = 0; q < ps; q++) {
                                    for (int k = 0; k < h; k++) {
                                        dwhr[q * h + k] += gOut[q] * pre[row * h + k];
                                    }
                                }
                                for (int k = 0; k < h; k++) {
                                    double a = 0;
                                    for (int q = 0; q < ps; q++) {
                                        a += gOut[q] * whr[q * h + k];
                                    }
                                    gHidden[k] = a;
                                }
                            } else {
                                System.arraycopy(gOut, 0, gHidden, 0, h);
                            }
                            for (int j = 0; j < h; j++) {
                                double ig = g[go + j];
                                double fg = g[go + h + j];
                                double gg = g[go + 2 * h + j];
                                double og = g[go + 3 * h + j];
                                double tc = Math.tanh(cNew[cell][row * h + j]);
                                double gc = dc[bi * h + j] + gHidden[j] * og * (1 - tc * tc);
                                double gO = gHidden[j] * tc;
                                dxg[j] = gc * gg * ig * (1 - ig);
                                dxg[h + j] = gc * cPrev[cell][row * h + j] * fg * (1 - fg);
                                dxg[2 * h + j] = gc * ig * (1 - gg * gg);
                                dxg[3 * h + j] = gO * og * (1 - og);
                                dc[bi * h + j] = gc * fg;
                            }
                            System.arraycopy(dxg, 0, dhg, 0, gh);
                        }
                        case GRU -> {
                            for (int j = 0; j < h; j++) {
                                double r = g[go + j];
                                double z = g[go + h + j];
                                double n = g[go + 2 * h + j];
                                double prev = hPrev[cell][row * ps + j];
                                double gn = gOut[j] * (1 - z);
                                double gz = gOut[j] * (prev - n);
                                direct[j] = gOut[j] * z;
                                double dan = gn * (1 - n * n);
                                double gr = dan * hgn[cell][row * h + j];
                                dxg[j] = gr * r * (1 - r);
                                dxg[h + j] = gz * z * (1 - z);
                                dxg[2 * h + j] = dan;
                                dhg[j] = dxg[j];
                                dhg[h + j] = dxg[h + j];
                                dhg[2 * h + j] = dan * r;
                            }
                        }
                    }
                    // input projection: weights, bias and the input's gradient
                    for (int q = 0; q < gh; q++) {
                        double a = dxg[q];
                        for (int k = 0; k < in; k++) {
                            dwih[q * in + k] += a * x[row * in + k];
                        }
                        if (dbih != null) {
                            dbih[q] += a;
                        }
                    }
                    for (int k = 0; k < in; k++) {
                        double a = 0;
                        for (int q = 0; q < gh; q++) {
                            a += dxg[q] * wih[q * in + k];
                        }
                        dInput[row * in + k] += a;
                    }
                    // recurrent projection: weights, bias and the previous state's gradient
                    double[] hp = hPrev[cell];
                    for (int q = 0; q < gh; q++) {
                        double a = dhg[q];
                        for (int k = 0; k < ps; k++) {
                            dwhh[q * ps + k] += a * hp[row * ps + k];
                        }
                        if (dbhh != null) {
                            dbhh[q] += a;
                        }
                    }
                    for (int k = 0; k < ps; k++) {
                        double a = direct[k];
                        for (int q = 0; q < gh; q++) {
                            a += dhg[q] * whh[q * ps + k];
                        }
                        dh[bi * ps + k] = a;
                    }
                }
            }
            System.arraycopy(dh, 0, dh0, cell * b * ps, b * ps);
            System.arraycopy(dc, 0, dc0, cell * b * h, b * h);
        }
    }

    private static double sigmoid(double a) {
        // evaluated stably on both sides of 0, as the reference backend's SIGMOID
        if (a >= 0) {
            return 1 / (1 + Math.exp(-a));
        }
        double e = Math.exp(a);
        return e / (1 + e);
    }

    // ---- host access -------------------------------------------------------------------------

    private static MemorySegment segment(View v) {
        if (!(v.storage() instanceof HostStorage hs)) {
            throw new IllegalArgumentException("reference backend: " + v + " is not host memory");
        }
        return hs.segment();
    }

    /** The view's elements in row-major order, as doubles. */
    static double[] read(View v) {
        MemorySegment s = segment(v);
        DType dt = v.dtype();
        double[] out = new double[Math.toIntExact(v.numel())];
        for (int i = 0; i < out.length; i++) {
            out[i] = ReferenceBackend.get(s, dt, v.indexOf(i));
        }
        return out;
    }

    /** Stores {@code values} (row-major) into the view, each rounded once to its dtype. */
    static void write(View v, double[] values) {
        MemorySegment s = segment(v);
        DType dt = v.dtype();
        for (int i = 0; i < values.length; i++) {
            ReferenceBackend.set(s, dt, v.indexOf(i), values[i]);
        }
    }
}
