package dev.sinew.spi;

import dev.sinew.DType;
import java.util.Arrays;
import java.util.List;

/**
 * Default implementations of the {@link FusedOps}, composed from a backend's primitive ops.
 * Temporaries are allocated from the same backend and released before returning.
 *
 * <p>These compositions are the definition of the fused ops' semantics (the reference backend does
 * not override them), so they follow the formulas in {@link FusedOps} term by term. They never pass
 * an output view that aliases an input view to a primitive (the {@link Backend} contract lets
 * backends assume that), so in-place updates of optimiser parameters and state are computed into a
 * temporary and then {@link Backend#copy copied} back. Intermediates have the dtype of the operand
 * they derive from. Stateless; thread safety is that of the backend.
 */
final class Composed {
    private Composed() {
    }

    // ---- softmax -----------------------------------------------------------------------------

    static void softmax(Backend b, View x, View out, boolean log) {
        String op = log ? "logSoftmax" : "softmax";
        requireRank(op, "x", x, 1);
        requireSameShape(op, "out", out, x);
        long[] shape = x.shape();                 // [..., C]
        long[] rows = lastToOne(shape);           // [..., 1]
        DType dt = out.dtype();
        try (Temps t = new Temps(b)) {
            View max = t.tensor(dt, rows);
            b.reduce(ReduceOp.MAX, x, max);
            View shifted = t.tensor(dt, shape);   // x - max
            b.binary(BinaryOp.SUB, x, expandLast(max, shape), shifted);
            View e = t.tensor(dt, shape);         // exp(x - max)
            b.unary(UnaryOp.EXP, shifted, e);
            View sum = t.tensor(dt, rows);        // Σ exp(x - max)
            b.reduce(ReduceOp.SUM, e, sum);
            if (log) {
                View logSum = t.tensor(dt, rows);
                b.unary(UnaryOp.LOG, sum, logSum);
                b.binary(BinaryOp.SUB, shifted, expandLast(logSum, shape), out);
            } else {
                b.binary(BinaryOp.DIV, e, expandLast(sum, shape), out);
            }
        }
    }

    static void softmaxBackward(Backend b, View y, View dy, View dx, boolean log) {
        String op = log ? "logSoftmaxBackward" : "softmaxBackward";
        requireRank(op, "y", y, 1);
        requireSameShape(op, "dy", dy, y);
        requireSameShape(op, "dx", dx, y);
        long[] shape = y.shape();
        long[] rows = lastToOne(shape);
        DType dt = dx.dtype();
        try (Temps t = new Temps(b)) {
            if (log) {
                // dx = dy − exp(y) ⊙ Σ dy
                View sum = t.tensor(dt, rows);
                b.reduce(ReduceOp.SUM, dy, sum);
                View p = t.tensor(dt, shape);
                b.unary(UnaryOp.EXP, y, p);
                View ps = t.tensor(dt, shape);
                b.binary(BinaryOp.MUL, p, expandLast(sum, shape), ps);
                b.binary(BinaryOp.SUB, dy, ps, dx);
            } else {
                // dx = y ⊙ (dy − Σ dy⊙y)
                View prod = t.tensor(dt, shape);
                b.binary(BinaryOp.MUL, dy, y, prod);
                View sum = t.tensor(dt, rows);
                b.reduce(ReduceOp.SUM, prod, sum);
                View centred = t.tensor(dt, shape);
                b.binary(BinaryOp.SUB, dy, expandLast(sum, shape), centred);
                b.binary(BinaryOp.MUL, y, centred, dx);
            }
        }
    }

    // ---- cross-entropy -----------------------------------------------------------------------

    static void softmaxCrossEntropy(Backend b, View logits, View labels, View loss, View probs, long ignoreIndex,
            double labelSmoothing) {
        String op = "softmaxCrossEntropy";
        checkCrossEntropy(op, logits, labels, loss);
        requireSameShape(op, "probs", probs, logits);
        long n = logits.shape()[0];
        long c = logits.shape()[1];
        long[] nc = {n, c};
        DType dt = logits.dtype();
        try (Temps t = new Temps(b)) {
            View logp = t.tensor(dt, nc);                       // [N, C] log p
            softmax(b, logits, logp, true);
            b.unary(UnaryOp.EXP, logp, probs);                  // [N, C] p
            View target = smoothedTarget(b, t, labels, dt, c, labelSmoothing); // [N, C]
            // loss = −Σ_c target·log p = (1−ε)·(−log p_y) − (ε/C)·Σ_c log p_c
            View prod = t.tensor(dt, nc);
            b.binary(BinaryOp.MUL, target, logp, prod);
            View rowSum = t.tensor(dt, n, 1);                   // [N, 1]
            b.reduce(ReduceOp.SUM, prod, rowSum);
            View negSum = t.tensor(dt, n);                      // [N]
            b.unary(UnaryOp.NEG, reshape(rowSum, n), negSum);
            View valid = validRows(b, t, labels, ignoreIndex);  // [N] INT64 1/0
            b.where(valid, negSum, t.scalar(dt, 0.0, n), loss);
        }
    }

    static void softmaxCrossEntropyBackward(Backend b, View probs, View labels, View dLoss, View dLogits,
            long ignoreIndex, double labelSmoothing) {
        String op = "softmaxCrossEntropyBackward";
        checkCrossEntropy(op, probs, labels, dLoss);
        requireSameShape(op, "dLogits", dLogits, probs);
        long n = probs.shape()[0];
        long c = probs.shape()[1];
        long[] nc = {n, c};
        DType dt = dLogits.dtype();
        try (Temps t = new Temps(b)) {
            View target = smoothedTarget(b, t, labels, dt, c, labelSmoothing); // [N, C]
            View diff = t.tensor(dt, nc);                                      // p − target
            b.binary(BinaryOp.SUB, probs, target, diff);
            View scaled = t.tensor(dt, nc);                                    // dLoss[n] · (p − target)
            b.binary(BinaryOp.MUL, diff, expandColumn(dLoss, c), scaled);
            View valid = validRows(b, t, labels, ignoreIndex);                 // [N]
            b.where(expandColumn(valid, c), scaled, t.scalar(dt, 0.0, nc), dLogits);
        }
    }

    private static void checkCrossEntropy(String op, View logits, View labels, View perRow) {
        if (logits.rank() != 2) {
            throw new IllegalArgumentException(op + ": logits/probs must be [N, C], got " + Arrays.toString(logits.shape()));
        }
        long n = logits.shape()[0];
        if (labels.rank() != 1 || labels.shape()[0] != n) {
            throw new IllegalArgumentException(op + ": labels must be [" + n + "], got " + Arrays.toString(labels.shape()));
        }
        if (perRow.rank() != 1 || perRow.shape()[0] != n) {
            throw new IllegalArgumentException(op + ": per-row loss must be [" + n + "], got "
                    + Arrays.toString(perRow.shape()));
        }
    }

    /**
     * The smoothed one-hot target {@code [N, C]}: {@code 1 − ε + ε/C} at the label, {@code ε/C}
     * elsewhere (a row whose label is outside [0, C), such as an ignored one, gets ε/C everywhere).
     */
    private static View smoothedTarget(Backend b, Temps t, View labels, DType dt, long c, double eps) {
        long n = labels.shape()[0];
        long[] nc = {n, c};
        long[] iota = new long[Math.toIntExact(c)];
        for (int i = 0; i < iota.length; i++) {
            iota[i] = i;
        }
        View classes = t.values(labels.dtype(), iota);                   // [C]
        View isLabel = t.tensor(labels.dtype(), nc);                     // [N, C] 1 where c == label
        b.binary(BinaryOp.EQ, expandColumn(labels, c), classes.with(0, nc, new long[] {0, 1}), isLabel);
        View target = t.tensor(dt, nc);
        double off = eps / c;
        b.where(isLabel, t.scalar(dt, 1.0 - eps + off, nc), t.scalar(dt, off, nc), target);
        return target;
    }

    /** {@code [N]} in the labels' dtype: 1 where {@code label != ignoreIndex}, else 0. */
    private static View validRows(Backend b, Temps t, View labels, long ignoreIndex) {
        long n = labels.shape()[0];
        View ignore = t.values(labels.dtype(), new long[] {ignoreIndex});
        View valid = t.tensor(labels.dtype(), n);
        b.binary(BinaryOp.NE, labels, ignore.with(0, new long[] {n}, new long[] {0}), valid);
        return valid;
    }

    // ---- dropout -----------------------------------------------------------------------------

    static void dropout(Backend b, View x, View out, View mask, double p, long seed, long offset) {
        requireSameShape("dropout", "out", out, x);
        requireSameShape("dropout", "mask", mask, x);
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("dropout: p must be in [0, 1], got " + p);
        }
        long[] shape = x.shape();
        DType dt = mask.dtype();
        try (Temps t = new Temps(b)) {
            // BERNOULLI(p) at counter offset + i is exactly (Philox.uniform(seed, offset + i) < p):
            // 1 where the element is dropped.
            View dropped = t.tensor(dt, shape);
            b.random(dropped, Distribution.BERNOULLI, p, 0.0, seed, offset);
            b.where(dropped, t.scalar(dt, 0.0, shape), t.scalar(dt, 1.0 / (1.0 - p), shape), mask);
            b.binary(BinaryOp.MUL, x, mask, out);
        }
    }

    // ---- optimisers --------------------------------------------------------------------------

    static void sgdStep(Backend b, List<View> params, List<View> grads, List<View> momentum,
            FusedOps.SgdConfig cfg) {
        String op = "sgdStep";
        requireSameSizes(op, params, "grads", grads);
        boolean useMomentum = cfg.momentum() != 0;
        if (useMomentum) {
            requireSameSizes(op, params, "momentum", momentum);
        }
        for (int i = 0; i < params.size(); i++) {
            View p = params.get(i);
            requireSameShape(op, "grads[" + i + "]", grads.get(i), p);
            try (Temps t = new Temps(b)) {
                View g = grads.get(i);
                if (cfg.weightDecay() != 0) {
                    g = axpy(b, t, cfg.weightDecay(), p, g);                     // g + wd·θ
                }
                if (useMomentum) {
                    View buf = momentum.get(i);
                    requireSameShape(op, "momentum[" + i + "]", buf, p);
                    if (cfg.firstStep()) {
                        b.copy(g, buf);                                          // buf = g
                    } else {
                        View next = lincomb(b, t, cfg.momentum(), buf, 1 - cfg.dampening(), g);
                        b.copy(next, buf);                                       // buf = μ·buf + (1−d)·g
                    }
                    g = cfg.nesterov() ? axpy(b, t, cfg.momentum(), buf, g) : buf; // g + μ·buf | buf
                }
                b.copy(axpy(b, t, -cfg.lr(), g, p), p);                           // θ − lr·g
            }
        }
    }

    static void adamStep(Backend b, List<View> params, List<View> grads, List<View> m, List<View> v,
            FusedOps.AdamConfig cfg) {
        String op = "adamStep";
        requireSameSizes(op, params, "grads", grads);
        requireSameSizes(op, params, "m", m);
        requireSameSizes(op, params, "v", v);
        if (cfg.step() < 1) {
            throw new IllegalArgumentException(op + ": step must be >= 1, got " + cfg.step());
        }
        double bc1 = 1 - Math.pow(cfg.beta1(), cfg.step());
        double bc2 = 1 - Math.pow(cfg.beta2(), cfg.step());
        boolean decay = cfg.weightDecay() != 0;
        for (int i = 0; i < params.size(); i++) {
            View p = params.get(i);
            requireSameShape(op, "grads[" + i + "]", grads.get(i), p);
            requireSameShape(op, "m[" + i + "]", m.get(i), p);
            requireSameShape(op, "v[" + i + "]", v.get(i), p);
            long[] shape = p.shape();
            DType dt = p.dtype();
            try (Temps t = new Temps(b)) {
                View g = grads.get(i);
                if (decay && !cfg.decoupled()) {
                    g = axpy(b, t, cfg.weightDecay(), p, g);                     // L2: g + wd·θ
                }
                View theta = p;
                if (decay && cfg.decoupled()) {
                    theta = t.tensor(dt, shape);                                 // AdamW: θ·(1 − lr·wd)
                    b.binary(BinaryOp.MUL, p, t.scalar(dt, 1 - cfg.lr() * cfg.weightDecay(), shape), theta);
                }
                View m1 = lincomb(b, t, cfg.beta1(), m.get(i), 1 - cfg.beta1(), g); // β1·m + (1−β1)·g
                b.copy(m1, m.get(i));
                View g2 = t.tensor(dt, shape);
                b.binary(BinaryOp.MUL, g, g, g2);
                View v1 = lincomb(b, t, cfg.beta2(), v.get(i), 1 - cfg.beta2(), g2); // β2·v + (1−β2)·g²
                b.copy(v1, v.get(i));
                View mHat = t.tensor(dt, shape);                                 // m / (1−β1^t)
                b.binary(BinaryOp.DIV, m1, t.scalar(dt, bc1, shape), mHat);
                View vHat = t.tensor(dt, shape);                                 // v / (1−β2^t)
                b.binary(BinaryOp.DIV, v1, t.scalar(dt, bc2, shape), vHat);
                View root = t.tensor(dt, shape);
                b.unary(UnaryOp.SQRT, vHat, root);
                View denom = t.tensor(dt, shape);                                // sqrt(v̂) + ε
                b.binary(BinaryOp.ADD, root, t.scalar(dt, cfg.eps(), shape), denom);
                View step = t.tensor(dt, shape);                                 // m̂ / (sqrt(v̂) + ε)
                b.binary(BinaryOp.DIV, mHat, denom, step);
                b.copy(axpy(b, t, -cfg.lr(), step, theta), p);                    // θ − lr·step
            }
        }
    }

    static void rmspropStep(Backend b, List<View> params, List<View> grads, List<View> squareAvg,
            List<View> momentumBuf, List<View> gradAvg, FusedOps.RmsPropConfig cfg) {
        String op = "rmspropStep";
        requireSameSizes(op, params, "grads", grads);
        requireSameSizes(op, params, "squareAvg", squareAvg);
        boolean useMomentum = cfg.momentum() != 0;
        if (useMomentum) {
            requireSameSizes(op, params, "momentumBuf", momentumBuf);
        }
        if (cfg.centered()) {
            requireSameSizes(op, params, "gradAvg", gradAvg);
        }
        double alpha = cfg.alpha();
        for (int i = 0; i < params.size(); i++) {
            View p = params.get(i);
            requireSameShape(op, "grads[" + i + "]", grads.get(i), p);
            requireSameShape(op, "squareAvg[" + i + "]", squareAvg.get(i), p);
            long[] shape = p.shape();
            DType dt = p.dtype();
            try (Temps t = new Temps(b)) {
                View g = grads.get(i);
                if (cfg.weightDecay() != 0) {
                    g = axpy(b, t, cfg.weightDecay(), p, g);                     // g + wd·θ
                }
                View g2 = t.tensor(dt, shape);
                b.binary(BinaryOp.MUL, g, g, g2);
                View sq = lincomb(b, t, alpha, squareAvg.get(i), 1 - alpha, g2); // α·sq + (1−α)·g²
                b.copy(sq, squareAvg.get(i));
                View root = t.tensor(dt, shape);
                if (cfg.centered()) {
                    requireSameShape(op, "gradAvg[" + i + "]", gradAvg.get(i), p);
                    View ga = lincomb(b, t, alpha, gradAvg.get(i), 1 - alpha, g); // α·ga + (1−α)·g
                    b.copy(ga, gradAvg.get(i));
                    View ga2 = t.tensor(dt, shape);
                    b.binary(BinaryOp.MUL, ga, ga, ga2);
                    View var = t.tensor(dt, shape);                              // sq − ga²
                    b.binary(BinaryOp.SUB, sq, ga2, var);
                    b.unary(UnaryOp.SQRT, var, root);
                } else {
                    b.unary(UnaryOp.SQRT, sq, root);
                }
                View avg = t.tensor(dt, shape);                                  // sqrt(·) + ε
                b.binary(BinaryOp.ADD, root, t.scalar(dt, cfg.eps(), shape), avg);
                View q = t.tensor(dt, shape);                                    // g / avg
                b.binary(BinaryOp.DIV, g, avg, q);
                View update = q;
                if (useMomentum) {
                    View buf = momentumBuf.get(i);
                    requireSameShape(op, "momentumBuf[" + i + "]", buf, p);
                    View next = axpy(b, t, cfg.momentum(), buf, q);              // μ·buf + g/avg
                    b.copy(next, buf);
                    update = next;
                }
                b.copy(axpy(b, t, -cfg.lr(), update, p), p);                      // θ − lr·update
            }
        }
    }

    // ---- composition helpers -----------------------------------------------------------------

    /** A new temporary {@code y + alpha·x} (x's dtype, y's shape). */
    private static View axpy(Backend b, Temps t, double alpha, View x, View y) {
        long[] shape = y.shape();
        DType dt = x.dtype();
        View ax = t.tensor(dt, shape);
        b.binary(BinaryOp.MUL, x, t.scalar(dt, alpha, shape), ax);
        View out = t.tensor(dt, shape);
        b.binary(BinaryOp.ADD, y, ax, out);
        return out;
    }

    /** A new temporary {@code alpha·x + beta·y}. */
    private static View lincomb(Backend b, Temps t, double alpha, View x, double beta, View y) {
        long[] shape = x.shape();
        DType dt = x.dtype();
        View ax = t.tensor(dt, shape);
        b.binary(BinaryOp.MUL, x, t.scalar(dt, alpha, shape), ax);
        View by = t.tensor(dt, shape);
        b.binary(BinaryOp.MUL, y, t.scalar(dt, beta, shape), by);
        View out = t.tensor(dt, shape);
        b.binary(BinaryOp.ADD, ax, by, out);
        return out;
    }

    /** {@code [..., C] -> [..., 1]}. */
    private static long[] lastToOne(long[] shape) {
        long[] r = shape.clone();
        r[r.length - 1] = 1;
        return r;
    }

    /** A view {@code [..., 1]} broadcast along its last axis to {@code shape [..., C]} (stride 0). */
    private static View expandLast(View rows, long[] shape) {
        long[] strides = rows.strides().clone();
        strides[strides.length - 1] = 0;
        return rows.with(rows.offset(), shape.clone(), strides);
    }

    /** A view {@code [N]} broadcast to {@code [N, C]}: each row repeats element n. */
    private static View expandColumn(View v, long c) {
        return v.with(v.offset(), new long[] {v.shape()[0], c}, new long[] {v.strides()[0], 0});
    }

    /** A contiguous temporary seen with another contiguous shape of the same size. */
    private static View reshape(View contiguous, long... shape) {
        return contiguous.with(contiguous.offset(), shape, View.contiguousStrides(shape));
    }

    private static void requireRank(String op, String arg, View v, int min) {
        if (v.rank() < min) {
            throw new IllegalArgumentException(op + ": " + arg + " must have rank >= " + min + ", got "
                    + Arrays.toString(v.shape()));
        }
    }

    private static void requireSameShape(String op, String arg, View v, View like) {
        if (!Arrays.equals(v.shape(), like.shape())) {
            throw new IllegalArgumentException(op + ": " + arg + " has shape " + Arrays.toString(v.shape())
                    + ", expected " + Arrays.toString(like.shape()));
        }
    }

    private static void requireSameSizes(String op, List<View> params, String name, List<View> other) {
        if (other.size() != params.size()) {
            throw new IllegalArgumentException(op + ": " + params.size() + " params but " + other.size() + " " + name);
        }
    }
}
