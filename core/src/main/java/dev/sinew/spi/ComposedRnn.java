package dev.sinew.spi;

import dev.sinew.DType;
import dev.sinew.spi.FusedOps.RnnMode;
import dev.sinew.spi.FusedOps.RnnParams;
import java.util.Arrays;
import java.util.List;

/**
 * Default implementation of the whole-sequence recurrent op ({@link FusedOps#rnnForward},
 * {@link FusedOps#rnnBackward}), composed only from a backend's primitives (matmul, unary, binary,
 * where, reduce, copy, fill), the way a fast backend would schedule it:
 * <ul>
 *   <li>per layer and direction, <b>one GEMM</b> projects the whole input sequence for all gates,
 *       {@code XG [T·B, G·H] = x [T·B, in] · w_ihᵀ + b_ih};</li>
 *   <li>then per step <b>one recurrent GEMM</b>, {@code HG [B, G·H] = h · w_hhᵀ + b_hh}, and the gate
 *       math as elementwise primitives on column slices of {@code XG_t + HG} (LSTM: one more GEMM
 *       for the projection);</li>
 *   <li>variable lengths are a {@code [T, B]} 1/0 mask: {@code h = where(m_t, h', h)} and
 *       {@code y_t = where(m_t, h', 0)}, which also makes the reverse direction start at each
 *       sequence's own end (before it, the carried state is still h0);</li>
 *   <li>the backward walks the steps in reverse, one GEMM per step for the state's gradient
 *       ({@code dh = dHG_t · w_hh}), and collects the gates' gradients of all steps so that each
 *       weight gradient is <b>one GEMM</b> over the whole sequence ({@code dW_ih = dXGᵀ · x},
 *       {@code dW_hh = dHGᵀ · H_prev}) and the input gradient another ({@code dx = dXG · w_ih}).</li>
 * </ul>
 *
 * <p>The reserve the forward fills, per layer l and direction d (cell {@code l·D + d}), in order:
 * activated gates {@code [T, B, G·H]} (RNN: h'; GRU: r, z, n), the states after every step
 * {@code [T, B, P]}, for LSTM the cell states {@code [T, B, H]} and, with a projection, the
 * unprojected outputs {@code o⊙tanh(c')} {@code [T, B, H]}, for GRU {@code w_hn·h + b_hn}
 * {@code [T, B, H]}; then the outputs of layers 0 … L−2, {@code [T, B, D·P]} each. With a null
 * reserve (inference) the same buffers are temporaries.
 *
 * <p>Intermediates have the operands' dtype, so FLOAT32 results round at every primitive; the
 * reference ({@code ReferenceRnn}) evaluates in double, and the two agree within the conformance
 * tolerances. No output passed to a primitive aliases one of its inputs, except the in-place
 * forms the {@link Backend} contract allows for {@code binary}. Temporaries come from the same
 * backend and are released before returning, also on failure. Stateless; thread safety is that of
 * the backend.
 */
final class ComposedRnn {
    private ComposedRnn() {
    }

    // ---- reserve layout ----------------------------------------------------------------------

    /** Elements per step and sequence that one cell (layer, direction) keeps. */
    private static long cellWidth(RnnParams p) {
        long h = p.hiddenSize();
        long w = p.gateSize() + p.outSize();
        if (p.mode() == RnnMode.LSTM) {
            w += h;
            if (p.projSize() > 0) {
                w += h;
            }
        } else if (p.mode() == RnnMode.GRU) {
            w += h;
        }
        return w;
    }

    static long reserveSize(RnnParams p, long seqLen, long batch) {
        long tb = Math.multiplyExact(seqLen, batch);
        long cells = (long) p.numLayers() * p.directions();
        long perStep = Math.addExact(Math.multiplyExact(cells, cellWidth(p)),
                Math.multiplyExact((long) (p.numLayers() - 1), p.directions() * p.outSize()));
        return Math.multiplyExact(tb, perStep);
    }

    /** The reserve of one cell, as views {@code [T, B, ·]} into one contiguous buffer. */
    private record CellStore(View gates, View states, View cells, View hidden, View hgn) {
    }

    /** Splits a reserve (or a temporary of the same size) into its parts. */
    private static final class Store {
        final CellStore[] cells;
        final View[] layerOut; // [T, B, D·P] for layers 0 … L−2

        Store(RnnParams p, View buf, long t, long b) {
            long tb = t * b;
            long h = p.hiddenSize();
            int n = p.numLayers() * p.directions();
            cells = new CellStore[n];
            long off = buf.offset();
            for (int i = 0; i < n; i++) {
                View gates = at(buf, off, t, b, p.gateSize());
                off += tb * p.gateSize();
                View states = at(buf, off, t, b, p.outSize());
                off += tb * p.outSize();
                View cs = null;
                View hidden = null;
                View hgn = null;
                if (p.mode() == RnnMode.LSTM) {
                    cs = at(buf, off, t, b, h);
                    off += tb * h;
                    if (p.projSize() > 0) {
                        hidden = at(buf, off, t, b, h);
                        off += tb * h;
                    }
                } else if (p.mode() == RnnMode.GRU) {
                    hgn = at(buf, off, t, b, h);
                    off += tb * h;
                }
                cells[i] = new CellStore(gates, states, cs, hidden, hgn);
            }
            layerOut = new View[p.numLayers() - 1];
            long width = p.directions() * p.outSize();
            for (int l = 0; l < layerOut.length; l++) {
                layerOut[l] = at(buf, off, t, b, width);
                off += tb * width;
            }
        }

        private static View at(View buf, long off, long t, long b, long w) {
            return buf.with(off, new long[] {t, b, w}, new long[] {b * w, w, 1});
        }
    }

    // ---- forward -----------------------------------------------------------------------------

    static void forward(Backend b, RnnParams p, long[] lengths, View x, View h0, View c0, List<View> weights, View y,
            View hN, View cN, View reserve) {
        long[] tb = p.check("rnnForward", lengths, x, h0, c0, weights, y, hN, cN);
        long t = tb[0];
        long batch = tb[1];
        long size = reserveSize(p, t, batch);
        if (reserve != null && reserve.numel() < size) {
            throw new IllegalArgumentException("rnnForward: reserve has " + reserve.numel() + " elements, need "
                    + size + " (rnnReserveSize)");
        }
        DType dt = x.dtype();
        try (Temps tmp = new Temps(b)) {
            View buf = reserve != null ? reserve : tmp.tensor(dt, size);
            Store store = new Store(p, buf, t, batch);
            View mask = mask(tmp, dt, lengths, t, batch);
            View in = x;
            for (int l = 0; l < p.numLayers(); l++) {
                View out = l == p.numLayers() - 1 ? y : store.layerOut[l];
                for (int d = 0; d < p.directions(); d++) {
                    new Cell(b, tmp, p, l, d, t, batch, weights, store.cells[l * p.directions() + d], mask, h0, c0)
                            .forward(in, out, hN, cN);
                }
                in = out;
            }
        }
    }

    /** A {@code [T, B]} 1/0 mask: 1 where step t is inside sequence b. */
    private static View mask(Temps tmp, DType dt, long[] lengths, long t, long b) {
        double[] m = new double[Math.toIntExact(t * b)];
        for (int s = 0; s < t; s++) {
            for (int i = 0; i < b; i++) {
                m[(int) (s * b + i)] = lengths == null || s < lengths[i] ? 1 : 0;
            }
        }
        View v = tmp.values(dt, m);
        return v.with(v.offset(), new long[] {t, b}, new long[] {b, 1});
    }

    // ---- backward ----------------------------------------------------------------------------

    static void backward(Backend b, RnnParams p, long[] lengths, View x, View h0, View c0, List<View> weights,
            View y, View reserve, View dy, View dhN, View dcN, View dx, View dh0, View dc0, List<View> dWeights) {
        String op = "rnnBackward";
        long[] tb = p.check(op, lengths, x, h0, c0, weights, dy, dhN, dcN);
        long t = tb[0];
        long batch = tb[1];
        long size = reserveSize(p, t, batch);
        if (reserve == null || reserve.numel() < size) {
            throw new IllegalArgumentException(op + ": needs the reserve filled by rnnForward (" + size
                    + " elements), got " + (reserve == null ? "null" : reserve.numel() + " elements"));
        }
        requireShape(op, "dx", dx, x.shape());
        requireShape(op, "dh0", dh0, p.hiddenShape(batch));
        requireShape(op, "dc0", dc0, p.cellShape(batch));
        if (dc0 != null && p.mode() != RnnMode.LSTM) {
            throw new IllegalArgumentException(op + ": dc0 is only for LSTM, not " + p.mode());
        }
        if (dWeights != null) {
            p.checkWeights(op, dWeights, x.dtype());
        }
        DType dt = x.dtype();
        try (Temps tmp = new Temps(b)) {
            Store store = new Store(p, reserve, t, batch);
            View mask = mask(tmp, dt, lengths, t, batch);
            View dOut = dy;
            for (int l = p.numLayers() - 1; l >= 0; l--) {
                View in = l == 0 ? x : store.layerOut[l - 1];
                long inSize = p.layerInputSize(l);
                // the gradient of this layer's input: dx, or the next lower layer's dOut
                View dIn = l == 0 ? dx : tmp.tensor(dt, t, batch, inSize);
                for (int d = 0; d < p.directions(); d++) {
                    new Cell(b, tmp, p, l, d, t, batch, weights, store.cells[l * p.directions() + d], mask, h0, c0)
                            .backward(in, dOut, dhN, dcN, dIn, dh0, dc0, dWeights);
                }
                dOut = dIn;
            }
        }
    }

    private static void requireShape(String op, String arg, View v, long[] shape) {
        if (v != null && !Arrays.equals(v.shape(), shape)) {
            throw new IllegalArgumentException(op + ": " + arg + " has shape " + Arrays.toString(v.shape())
                    + ", expected " + Arrays.toString(shape));
        }
    }

    // ---- one layer in one direction ----------------------------------------------------------

    /**
     * Layer l, direction d: its weights, its part of the reserve, and the views and scratch buffers
     * its steps use. Lives for one op.
     */
    private static final class Cell {
        final Backend b;
        final Temps tmp;
        final RnnParams p;
        final RnnMode mode;
        final int l;
        final int d;
        final int row;       // l·D + d, the row of h0/hN/c0/cN
        final long t;
        final long batch;
        final long h;
        final long ps;
        final long gh;
        final DType dt;
        final View wih;      // [G·H, in]
        final View whh;      // [G·H, P]
        final View bih;      // [G·H] or null
        final View bhh;      // [G·H] or null
        final View whr;      // [P, H] or null
        final int wIndex;
        final CellStore store;
        final View mask;     // [T, B]
        final View h0;       // [L·D, B, P] or null
        final View c0;       // [L·D, B, H] or null

        Cell(Backend b, Temps tmp, RnnParams p, int l, int d, long t, long batch, List<View> weights, CellStore store,
                View mask, View h0, View c0) {
            this.b = b;
            this.tmp = tmp;
            this.p = p;
            this.mode = p.mode();
            this.l = l;
            this.d = d;
            this.row = l * p.directions() + d;
            this.t = t;
            this.batch = batch;
            this.h = p.hiddenSize();
            this.ps = p.outSize();
            this.gh = p.gateSize();
            this.wIndex = p.weightIndex(l, d);
            this.wih = weights.get(wIndex);
            this.dt = wih.dtype();
            this.whh = weights.get(wIndex + 1);
            this.bih = p.bias() ? weights.get(wIndex + 2) : null;
            this.bhh = p.bias() ? weights.get(wIndex + 3) : null;
            this.whr = p.projSize() > 0 ? weights.get(wIndex + (p.bias() ? 4 : 2)) : null;
            this.store = store;
            this.mask = mask;
            this.h0 = h0;
            this.c0 = c0;
        }

        /** The step processed s-th: t = s forward, T−1−s in reverse. */
        long stepAt(long s) {
            return d == 0 ? s : t - 1 - s;
        }

        /** Row {@code row} of a {@code [L·D, B, X]} state, or a zero temporary when it is null. */
        View stateRow(View v, long width) {
            if (v == null) {
                View z = tmp.tensor(dt, batch, width);
                b.fill(z, 0);
                return z;
            }
            return v.with(v.offset() + row * batch * width, new long[] {batch, width}, new long[] {width, 1});
        }

        /** The mask of step {@code s} broadcast to {@code [B, width]}. */
        View maskAt(long s, long width) {
            return mask.with(mask.offset() + s * batch, new long[] {batch, width}, new long[] {1, 0});
        }

        /** This direction's columns of a {@code [T, B, D·P]} output or its gradient, {@code [T, B, P]}. */
        View direction(View out) {
            long w = p.directions() * ps;
            return out.with(out.offset() + d * ps, new long[] {t, batch, ps}, new long[] {batch * w, w, 1});
        }

        void forward(View in, View out, View hN, View cN) {
            boolean lstm = mode == RnnMode.LSTM;
            View xg = tmp.tensor(dt, t * batch, gh);                     // [T·B, G·H]
            mm(b, flat(in), tr(wih), xg);
            if (bih != null) {
                b.binary(BinaryOp.ADD, xg, rows(bih, t * batch), xg);
            }
            View xg3 = xg.with(xg.offset(), new long[] {t, batch, gh}, new long[] {batch * gh, gh, 1});
            View outD = direction(out);                                  // [T, B, P]
            View hInit = stateRow(h0, ps);                               // [B, P]
            View cInit = lstm ? stateRow(c0, h) : null;                  // [B, H]
            View hg = tmp.tensor(dt, batch, gh);                         // [B, G·H]
            View a = tmp.tensor(dt, batch, gh);
            View s1 = tmp.tensor(dt, batch, h);
            View s2 = tmp.tensor(dt, batch, h);
            View s3 = tmp.tensor(dt, batch, h);
            View hNew = whr != null ? tmp.tensor(dt, batch, ps) : null;
            View zeroP = tmp.scalar(dt, 0.0, batch, ps);
            View prevH = hInit;
            View prevC = cInit;
            for (long s = 0; s < t; s++) {
                long st = stepAt(s);
                mm(b, prevH, tr(whh), hg);                               // [B, G·H]
                if (bhh != null) {
                    b.binary(BinaryOp.ADD, hg, rows(bhh, batch), hg);
                }
                View xt = step(xg3, st);
                View g = step(store.gates(), st);                        // [B, G·H] activated gates
                View next;                                               // [B, P] h'
                switch (mode) {
                    case RNN_TANH, RNN_RELU -> {
                        b.binary(BinaryOp.ADD, xt, hg, a);
                        b.unary(mode == RnnMode.RNN_TANH ? UnaryOp.TANH : UnaryOp.RELU, a, g);
                        next = g;
                    }
                    case LSTM -> {
                        b.binary(BinaryOp.ADD, xt, hg, a);
                        b.unary(UnaryOp.SIGMOID, cols(a, 0, 2 * h), cols(g, 0, 2 * h));   // i, f
                        b.unary(UnaryOp.TANH, cols(a, 2 * h, h), cols(g, 2 * h, h));      // g
                        b.unary(UnaryOp.SIGMOID, cols(a, 3 * h, h), cols(g, 3 * h, h));   // o
                        View cNew = s1;                                                   // c' = f⊙c + i⊙g
                        b.binary(BinaryOp.MUL, cols(g, h, h), prevC, cNew);
                        b.binary(BinaryOp.MUL, cols(g, 0, h), cols(g, 2 * h, h), s2);
                        b.binary(BinaryOp.ADD, cNew, s2, cNew);
                        b.unary(UnaryOp.TANH, cNew, s3);
                        View hid = whr != null ? step(store.hidden(), st) : s2;           // o⊙tanh(c')
                        b.binary(BinaryOp.MUL, cols(g, 3 * h, h), s3, hid);
                        if (whr != null) {
                            mm(b, hid, tr(whr), hNew);
                            next = hNew;
                        } else {
                            next = hid;
                        }
                        View cStep = step(store.cells(), st);
                        b.where(maskAt(st, h), cNew, prevC, cStep);
                        prevC = cStep;
                    }
                    case GRU -> {
                        b.binary(BinaryOp.ADD, cols(xt, 0, 2 * h), cols(hg, 0, 2 * h), cols(a, 0, 2 * h));
                        b.unary(UnaryOp.SIGMOID, cols(a, 0, 2 * h), cols(g, 0, 2 * h));   // r, z
                        View hn = step(store.hgn(), st);                                  // w_hn·h + b_hn
                        b.copy(cols(hg, 2 * h, h), hn);
                        b.binary(BinaryOp.MUL, cols(g, 0, h), hn, s1);                    // r⊙(w_hn·h + b_hn)
                        b.binary(BinaryOp.ADD, cols(xt, 2 * h, h), s1, s2);
                        View n = cols(g, 2 * h, h);
                        b.unary(UnaryOp.TANH, s2, n);
                        b.binary(BinaryOp.SUB, prevH, n, s1);                             // h' = n + z⊙(h − n)
                        b.binary(BinaryOp.MUL, cols(g, h, h), s1, s2);
                        b.binary(BinaryOp.ADD, n, s2, s3);
                        next = s3;
                    }
                    default -> throw new IllegalStateException("unknown mode " + mode);
                }
                View hStep = step(store.states(), st);
                b.where(maskAt(st, ps), next, prevH, hStep);
                b.where(maskAt(st, ps), next, zeroP, step(outD, st));
                prevH = hStep;
            }
            b.copy(prevH, stateRow(hN, ps));
            if (lstm) {
                b.copy(prevC, stateRow(cN, h));
            }
        }

        void backward(View in, View dOut, View dhN, View dcN, View dIn, View dh0, View dc0, List<View> dWeights) {
            boolean lstm = mode == RnnMode.LSTM;
            boolean gru = mode == RnnMode.GRU;
            View dOutD = direction(dOut);                                // [T, B, P]
            View hInit = stateRow(h0, ps);
            View cInit = lstm ? stateRow(c0, h) : null;
            View dh = tmp.tensor(dt, batch, ps);                         // gradient of the carried state
            b.copy(stateRow(dhN, ps), dh);
            View dc = null;
            if (lstm) {
                dc = tmp.tensor(dt, batch, h);
                b.copy(stateRow(dcN, h), dc);
            }
            View dxg = tmp.tensor(dt, t, batch, gh);                      // [T, B, G·H] ∂/∂(w_ih·x + b_ih)
            View dhg = gru ? tmp.tensor(dt, t, batch, gh) : dxg;          // ∂/∂(w_hh·h + b_hh)
            View hPrev = tmp.tensor(dt, t, batch, ps);                    // the state each step started from
            View gOutAll = whr != null ? tmp.tensor(dt, t, batch, ps) : null; // masked ∂/∂h' (for dW_hr)
            View one = tmp.scalar(dt, 1.0, batch, h);
            View zeroP = tmp.scalar(dt, 0.0, batch, ps);
            View zeroH = tmp.scalar(dt, 0.0, batch, h);
            View sum = tmp.tensor(dt, batch, ps);
            View gOut = tmp.tensor(dt, batch, ps);
            View pass = tmp.tensor(dt, batch, ps);
            View dhm = tmp.tensor(dt, batch, ps);
            View u1 = tmp.tensor(dt, batch, h);
            View u2 = tmp.tensor(dt, batch, h);
            View u3 = tmp.tensor(dt, batch, h);
            View u4 = tmp.tensor(dt, batch, h);
            View gHid = whr != null ? tmp.tensor(dt, batch, h) : null;
            View passC = lstm ? tmp.tensor(dt, batch, h) : null;
            View gc = lstm ? tmp.tensor(dt, batch, h) : null;
            View direct = gru ? tmp.tensor(dt, batch, h) : null;
            for (long s = t - 1; s >= 0; s--) {
                long st = stepAt(s);
                View prevH = s == 0 ? hInit : step(store.states(), stepAt(s - 1));
                View prevC = lstm ? (s == 0 ? cInit : step(store.cells(), stepAt(s - 1))) : null;
                b.copy(prevH, step(hPrev, st));
                View m = maskAt(st, ps);
                b.binary(BinaryOp.ADD, step(dOutD, st), dh, sum);
                View g0 = whr != null ? step(gOutAll, st) : gOut;
                b.where(m, sum, zeroP, g0);                              // ∂/∂h' (0 past the end)
                b.where(m, zeroP, dh, pass);                             // passes through past the end
                View g = step(store.gates(), st);
                View da = step(dxg, st);
                switch (mode) {
                    case RNN_TANH -> {
                        b.binary(BinaryOp.MUL, g, g, u1);                // 1 − h'²
                        b.binary(BinaryOp.SUB, one, u1, u2);
                        b.binary(BinaryOp.MUL, g0, u2, da);
                    }
                    case RNN_RELU -> {
                        b.binary(BinaryOp.GT, g, zeroH, u1);             // h' > 0
                        b.binary(BinaryOp.MUL, g0, u1, da);
                    }
                    case LSTM -> {
                        View gh0 = g0;
                        if (whr != null) {
                            mm(b, g0, whr, gHid);                        // [B, P]·[P, H]
                            gh0 = gHid;
                        }
                        View mh = maskAt(st, h);
                        View ig = cols(g, 0, h);
                        View fg = cols(g, h, h);
                        View gg = cols(g, 2 * h, h);
                        View og = cols(g, 3 * h, h);
                        b.unary(UnaryOp.TANH, step(store.cells(), st), u1);          // tanh(c')
                        b.where(mh, dc, zeroH, gc);                                   // ∂/∂c' from later steps
                        b.binary(BinaryOp.MUL, u1, u1, u2);
                        b.binary(BinaryOp.SUB, one, u2, u2);                          // 1 − tanh²(c')
                        b.binary(BinaryOp.MUL, gh0, og, u3);
                        b.binary(BinaryOp.MUL, u3, u2, u3);
                        b.binary(BinaryOp.ADD, gc, u3, gc);                           // + ∂h'/∂c'
                        b.binary(BinaryOp.MUL, gh0, u1, u4);                          // ∂/∂o = ∂h'·tanh(c')
                        sigmoidGrad(og, u4, cols(da, 3 * h, h), one, u2);
                        b.binary(BinaryOp.MUL, gc, gg, u3);                           // ∂/∂i = gc⊙g
                        sigmoidGrad(ig, u3, cols(da, 0, h), one, u2);
                        b.binary(BinaryOp.MUL, gc, prevC, u3);                        // ∂/∂f = gc⊙c
                        sigmoidGrad(fg, u3, cols(da, h, h), one, u2);
                        b.binary(BinaryOp.MUL, gc, ig, u3);                           // ∂/∂g = gc⊙i
                        b.binary(BinaryOp.MUL, gg, gg, u2);
                        b.binary(BinaryOp.SUB, one, u2, u2);
                        b.binary(BinaryOp.MUL, u3, u2, cols(da, 2 * h, h));
                        b.where(mh, zeroH, dc, passC);
                        b.binary(BinaryOp.MUL, gc, fg, u3);                           // ∂/∂c = gc⊙f
                        b.binary(BinaryOp.ADD, u3, passC, dc);
                    }
                    case GRU -> {
                        View r = cols(g, 0, h);
                        View z = cols(g, h, h);
                        View n = cols(g, 2 * h, h);
                        View dHg = step(dhg, st);                                    // ∂/∂(w_hh·h + b_hh)
                        b.binary(BinaryOp.SUB, one, z, u1);
                        b.binary(BinaryOp.MUL, g0, u1, u1);                           // ∂/∂n = ∂h'⊙(1 − z)
                        b.binary(BinaryOp.MUL, n, n, u2);
                        b.binary(BinaryOp.SUB, one, u2, u2);
                        View dan = cols(da, 2 * h, h);
                        b.binary(BinaryOp.MUL, u1, u2, dan);                          // through tanh
                        b.binary(BinaryOp.MUL, dan, r, cols(dHg, 2 * h, h));          // into w_hn·h + b_hn
                        b.binary(BinaryOp.MUL, dan, step(store.hgn(), st), u3);       // ∂/∂r
                        sigmoidGrad(r, u3, cols(da, 0, h), one, u2);
                        b.binary(BinaryOp.SUB, prevH, n, u3);
                        b.binary(BinaryOp.MUL, g0, u3, u3);                           // ∂/∂z = ∂h'⊙(h − n)
                        sigmoidGrad(z, u3, cols(da, h, h), one, u2);
                        b.copy(cols(da, 0, 2 * h), cols(dHg, 0, 2 * h));
                        b.binary(BinaryOp.MUL, g0, z, direct);                        // ∂h'/∂h directly
                    }
                    default -> throw new IllegalStateException("unknown mode " + mode);
                }
                mm(b, step(dhg, st), whh, dhm);                          // [B, G·H]·[G·H, P]
                b.binary(BinaryOp.ADD, dhm, pass, dh);
                if (gru) {
                    b.binary(BinaryOp.ADD, dh, direct, dh);
                }
            }
            if (dh0 != null) {
                b.copy(dh, stateRow(dh0, ps));
            }
            if (dc0 != null) {
                b.copy(dc, stateRow(dc0, h));
            }
            if (dWeights != null) {
                View fx = flat(dxg);                                     // [T·B, G·H]
                mm(b, tr(fx), flat(in), dWeights.get(wIndex));            // dW_ih = dXGᵀ · x
                View fh = flat(dhg);
                mm(b, tr(fh), flat(hPrev), dWeights.get(wIndex + 1));     // dW_hh = dHGᵀ · H_prev
                if (p.bias()) {
                    b.reduce(ReduceOp.SUM, fx, asRow(dWeights.get(wIndex + 2)));
                    b.reduce(ReduceOp.SUM, fh, asRow(dWeights.get(wIndex + 3)));
                }
                if (whr != null) {                                       // dW_hr = ∂h'ᵀ · (o⊙tanh(c'))
                    mm(b, tr(flat(gOutAll)), flat(store.hidden()), dWeights.get(wIndex + (p.bias() ? 4 : 2)));
                }
            }
            if (dIn != null) {
                View fIn = flat(dIn);                                    // [T·B, in]
                if (d == 0) {
                    mm(b, flat(dxg), wih, fIn);                          // dx = dXG · w_ih
                } else {
                    View part = tmp.tensor(dt, t * batch, wih.shape()[1]);
                    mm(b, flat(dxg), wih, part);
                    b.binary(BinaryOp.ADD, fIn, part, fIn);
                }
            }
        }

        /** {@code out = grad ⊙ s ⊙ (1 − s)} for a sigmoid output {@code s}; {@code scratch} is overwritten. */
        private void sigmoidGrad(View s, View grad, View out, View one, View scratch) {
            b.binary(BinaryOp.SUB, one, s, scratch);
            b.binary(BinaryOp.MUL, s, scratch, scratch);
            b.binary(BinaryOp.MUL, grad, scratch, out);
        }
    }

    // ---- views -------------------------------------------------------------------------------

    /** {@code out = a · c} for 2-D views of any strides, through the batched matmul with one batch entry. */
    private static void mm(Backend b, View a, View c, View out) {
        b.matmul(as3(a), as3(c), as3(out));
    }

    private static View as3(View v) {
        return v.with(v.offset(), new long[] {1, v.shape()[0], v.shape()[1]},
                new long[] {0, v.strides()[0], v.strides()[1]});
    }

    /** The transpose of a 2-D view. */
    private static View tr(View v) {
        return v.with(v.offset(), new long[] {v.shape()[1], v.shape()[0]}, new long[] {v.strides()[1], v.strides()[0]});
    }

    /** A contiguous {@code [T, B, X]} seen as {@code [T·B, X]}. */
    private static View flat(View v) {
        long[] s = v.shape();
        if (!v.isContiguous()) {
            throw new IllegalStateException("rnn: expected a contiguous view, got " + v);
        }
        return v.with(v.offset(), new long[] {s[0] * s[1], s[2]}, new long[] {s[2], 1});
    }

    /** Step t of a {@code [T, B, X]} view: {@code [B, X]}. */
    private static View step(View v, long t) {
        long[] st = v.strides();
        return v.with(v.offset() + t * st[0], new long[] {v.shape()[1], v.shape()[2]}, new long[] {st[1], st[2]});
    }

    /** Columns {@code [start, start + n)} of a 2-D view. */
    private static View cols(View v, long start, long n) {
        long[] st = v.strides();
        return v.with(v.offset() + start * st[1], new long[] {v.shape()[0], n}, st.clone());
    }

    /** A vector {@code [N]} repeated as {@code rows} rows: {@code [rows, N]} with row stride 0. */
    private static View rows(View vec, long rows) {
        return vec.with(vec.offset(), new long[] {rows, vec.shape()[0]}, new long[] {0, vec.strides()[0]});
    }

    /** A vector {@code [N]} as {@code [1, N]} (a reduction target over rows). */
    private static View asRow(View vec) {
        return vec.with(vec.offset(), new long[] {1, vec.shape()[0]}, new long[] {0, vec.strides()[0]});
    }
}
