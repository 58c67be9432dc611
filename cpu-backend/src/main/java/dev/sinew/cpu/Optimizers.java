package dev.sinew.cpu;

import static dev.sinew.cpu.Arg.NO;
import static dev.sinew.cpu.Elementwise.DL;
import static dev.sinew.cpu.Elementwise.DS;
import static dev.sinew.cpu.Elementwise.FL;
import static dev.sinew.cpu.Elementwise.FS;

import dev.sinew.DType;
import dev.sinew.spi.FusedOps.AdamConfig;
import dev.sinew.spi.FusedOps.RmsPropConfig;
import dev.sinew.spi.FusedOps.SgdConfig;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;

/**
 * Optimiser steps, one pass over each parameter and its state: SGD (momentum, dampening, Nesterov,
 * weight decay), Adam/AdamW and RMSProp (centered, momentum). Every element goes through the same
 * operations, in the same order and with the same roundings, as the composed definition in
 * {@code dev.sinew.spi.Composed} (each op rounded to the parameter's dtype, no fma), so FLOAT32 and
 * FLOAT64 results agree with it bit for bit.
 *
 * <p>A run where every operand is contiguous takes a Vector API loop in the dtype's lanes; other
 * runs (strided parameters, transposed gradients) take the scalar form, which rounds through
 * {@link Round} after each op. Large parameters are split over threads. Stateless and thread-safe;
 * parameters must not alias each other or their state (the gradient may be read-only shared).
 */
final class Optimizers {
    private Optimizers() {
    }

    /** Rounds a double result to the parameter dtype (identity for FLOAT64). */
    private record Round(boolean f32) {
        double q(double v) {
            return f32 ? (float) v : v;
        }
    }

    /** One run of n elements; off[k] is operand k's element offset; {@code dense}: all inner strides 1. */
    @FunctionalInterface
    private interface Step {
        void run(long[] off, long[] inner, long n, boolean dense);
    }

    private static void requireSizes(String op, int n, String what, List<?> l) {
        if (l.size() != n) {
            throw new IllegalArgumentException(op + ": " + n + " params but " + l.size() + " " + what);
        }
    }

    private static void requireShape(String op, String what, Arg a, Arg p) {
        if (!Arrays.equals(a.shape(), p.shape())) {
            throw new IllegalArgumentException(op + ": " + what + " has shape " + Arrays.toString(a.shape())
                    + ", expected " + Arrays.toString(p.shape()));
        }
    }

    /** Runs {@code step} over the shared index space of {@code ops} (ops[0] is the parameter). */
    private static void each(Parallel par, Arg[] ops, Step step) {
        long[][] strides = new long[ops.length][];
        long[] base = new long[ops.length];
        for (int i = 0; i < ops.length; i++) {
            strides[i] = ops[i].strides();
            base[i] = ops[i].offset();
        }
        Strided st = Strided.of(ops[0].shape(), strides);
        long n = st.numel;
        if (n == 0) {
            return;
        }
        long[] inner = new long[ops.length];
        boolean dense = true;
        for (int i = 0; i < ops.length; i++) {
            inner[i] = st.innerStride(i);
            dense &= inner[i] == 1;
        }
        boolean d = dense;
        int chunks = par.chunks(n, Elementwise.GRAIN);
        par.run(chunks, c -> st.forRangeN(base, Parallel.align(n, chunks, c, 64), Parallel.align(n, chunks, c + 1, 64),
                (off, len) -> step.run(off, inner, len, d)));
    }

    private static boolean vectorDtype(Arg[] ops) {
        DType t = ops[0].dtype();
        for (Arg a : ops) {
            if (a.dtype() != t) {
                return false;
            }
        }
        return t.isFloating();
    }

    // ==== SGD =====================================================================================

    static void sgd(Parallel par, List<Arg> params, List<Arg> grads, List<Arg> momentum, SgdConfig cfg) {
        String op = "sgdStep";
        int np = params.size();
        requireSizes(op, np, "grads", grads);
        boolean mom = cfg.momentum() != 0;
        if (mom) {
            requireSizes(op, np, "momentum", momentum);
        }
        for (int i = 0; i < np; i++) {
            Arg p = params.get(i);
            Arg g = grads.get(i);
            requireShape(op, "grads[" + i + "]", g, p);
            Arg[] ops = mom ? new Arg[] {p, g, momentum.get(i)} : new Arg[] {p, g};
            if (mom) {
                requireShape(op, "momentum[" + i + "]", momentum.get(i), p);
            }
            sgdOne(par, ops, cfg, mom);
        }
    }

    private static void sgdOne(Parallel par, Arg[] ops, SgdConfig cfg, boolean mom) {
        boolean f32 = ops[0].dtype() == DType.FLOAT32;
        Round r = new Round(f32);
        boolean vec = vectorDtype(ops);
        boolean decay = cfg.weightDecay() != 0;
        boolean first = cfg.firstStep();
        boolean nesterov = cfg.nesterov();
        double wd = r.q(cfg.weightDecay());
        double mu = r.q(cfg.momentum());
        double damp = r.q(1 - cfg.dampening());
        double nlr = r.q(-cfg.lr());
        MemorySegment ps = ops[0].seg();
        MemorySegment gs = ops[1].seg();
        MemorySegment bs = mom ? ops[2].seg() : null;
        each(par, ops, (off, in, n, dense) -> {
            long i = 0;
            if (vec && dense && f32) {
                long bound = FS.loopBound(n);
                for (; i < bound; i += FL) {
                    FloatVector p = FloatVector.fromMemorySegment(FS, ps, (off[0] + i) << 2, NO);
                    FloatVector g = FloatVector.fromMemorySegment(FS, gs, (off[1] + i) << 2, NO);
                    if (decay) {
                        g = g.add(p.mul((float) wd));                              // g + θ·wd
                    }
                    if (mom) {
                        FloatVector buf = first ? g : FloatVector.fromMemorySegment(FS, bs, (off[2] + i) << 2, NO)
                                .mul((float) mu).add(g.mul((float) damp));          // μ·buf + (1−d)·g
                        buf.intoMemorySegment(bs, (off[2] + i) << 2, NO);
                        g = nesterov ? g.add(buf.mul((float) mu)) : buf;
                    }
                    p.add(g.mul((float) nlr)).intoMemorySegment(ps, (off[0] + i) << 2, NO); // θ + g·(−lr)
                }
            } else if (vec && dense) {
                long bound = DS.loopBound(n);
                for (; i < bound; i += DL) {
                    DoubleVector p = DoubleVector.fromMemorySegment(DS, ps, (off[0] + i) << 3, NO);
                    DoubleVector g = DoubleVector.fromMemorySegment(DS, gs, (off[1] + i) << 3, NO);
                    if (decay) {
                        g = g.add(p.mul(wd));
                    }
                    if (mom) {
                        DoubleVector buf = first ? g : DoubleVector.fromMemorySegment(DS, bs, (off[2] + i) << 3, NO)
                                .mul(mu).add(g.mul(damp));
                        buf.intoMemorySegment(bs, (off[2] + i) << 3, NO);
                        g = nesterov ? g.add(buf.mul(mu)) : buf;
                    }
                    p.add(g.mul(nlr)).intoMemorySegment(ps, (off[0] + i) << 3, NO);
                }
            }
            for (; i < n; i++) { // scalar reference (and tail)
                long pi = off[0] + i * in[0];
                double p = ops[0].get(pi);
                double g = ops[1].get(off[1] + i * in[1]);
                if (decay) {
                    g = r.q(g + r.q(p * wd));
                }
                if (mom) {
                    long bi = off[2] + i * in[2];
                    double buf = first ? g : r.q(r.q(ops[2].get(bi) * mu) + r.q(g * damp));
                    ops[2].set(bi, buf);
                    g = nesterov ? r.q(g + r.q(buf * mu)) : buf;
                }
                ops[0].set(pi, r.q(p + r.q(g * nlr)));
            }
        });
    }

    // ==== Adam / AdamW ============================================================================

    static void adam(Parallel par, List<Arg> params, List<Arg> grads, List<Arg> m, List<Arg> v, AdamConfig cfg) {
        String op = "adamStep";
        int np = params.size();
        requireSizes(op, np, "grads", grads);
        requireSizes(op, np, "m", m);
        requireSizes(op, np, "v", v);
        if (cfg.step() < 1) {
            throw new IllegalArgumentException(op + ": step must be >= 1, got " + cfg.step());
        }
        for (int i = 0; i < np; i++) {
            Arg p = params.get(i);
            requireShape(op, "grads[" + i + "]", grads.get(i), p);
            requireShape(op, "m[" + i + "]", m.get(i), p);
            requireShape(op, "v[" + i + "]", v.get(i), p);
            adamOne(par, new Arg[] {p, grads.get(i), m.get(i), v.get(i)}, cfg);
        }
    }

    private static void adamOne(Parallel par, Arg[] ops, AdamConfig cfg) {
        boolean f32 = ops[0].dtype() == DType.FLOAT32;
        Round r = new Round(f32);
        boolean vec = vectorDtype(ops);
        boolean decay = cfg.weightDecay() != 0;
        boolean l2 = decay && !cfg.decoupled();
        boolean decoupled = decay && cfg.decoupled();
        double wd = r.q(cfg.weightDecay());
        double shrink = r.q(1 - cfg.lr() * cfg.weightDecay());
        double b1 = r.q(cfg.beta1());
        double ob1 = r.q(1 - cfg.beta1());
        double b2 = r.q(cfg.beta2());
        double ob2 = r.q(1 - cfg.beta2());
        double bc1 = r.q(1 - Math.pow(cfg.beta1(), cfg.step()));
        double bc2 = r.q(1 - Math.pow(cfg.beta2(), cfg.step()));
        double eps = r.q(cfg.eps());
        double nlr = r.q(-cfg.lr());
        MemorySegment ps = ops[0].seg();
        MemorySegment gs = ops[1].seg();
        MemorySegment ms = ops[2].seg();
        MemorySegment vs = ops[3].seg();
        each(par, ops, (off, in, n, dense) -> {
            long i = 0;
            if (vec && dense && f32) {
                long bound = FS.loopBound(n);
                for (; i < bound; i += FL) {
                    FloatVector p = FloatVector.fromMemorySegment(FS, ps, (off[0] + i) << 2, NO);
                    FloatVector g = FloatVector.fromMemorySegment(FS, gs, (off[1] + i) << 2, NO);
                    if (l2) {
                        g = g.add(p.mul((float) wd));                                  // g + θ·wd
                    }
                    FloatVector theta = decoupled ? p.mul((float) shrink) : p;          // θ·(1 − lr·wd)
                    FloatVector mv = FloatVector.fromMemorySegment(FS, ms, (off[2] + i) << 2, NO)
                            .mul((float) b1).add(g.mul((float) ob1));                   // β1·m + (1−β1)·g
                    FloatVector vv = FloatVector.fromMemorySegment(FS, vs, (off[3] + i) << 2, NO)
                            .mul((float) b2).add(g.mul(g).mul((float) ob2));            // β2·v + (1−β2)·g²
                    mv.intoMemorySegment(ms, (off[2] + i) << 2, NO);
                    vv.intoMemorySegment(vs, (off[3] + i) << 2, NO);
                    FloatVector step = mv.div((float) bc1).div(vv.div((float) bc2).sqrt().add((float) eps));
                    theta.add(step.mul((float) nlr)).intoMemorySegment(ps, (off[0] + i) << 2, NO);
                }
            } else if (vec && dense) {
                long bound = DS.loopBound(n);
                for (; i < bound; i += DL) {
                    DoubleVector p = DoubleVector.fromMemorySegment(DS, ps, (off[0] + i) << 3, NO);
                    DoubleVector g = DoubleVector.fromMemorySegment(DS, gs, (off[1] + i) << 3, NO);
                    if (l2) {
                        g = g.add(p.mul(wd));
                    }
                    DoubleVector theta = decoupled ? p.mul(shrink) : p;
                    DoubleVector mv = DoubleVector.fromMemorySegment(DS, ms, (off[2] + i) << 3, NO)
                            .mul(b1).add(g.mul(ob1));
                    DoubleVector vv = DoubleVector.fromMemorySegment(DS, vs, (off[3] + i) << 3, NO)
                            .mul(b2).add(g.mul(g).mul(ob2));
                    mv.intoMemorySegment(ms, (off[2] + i) << 3, NO);
                    vv.intoMemorySegment(vs, (off[3] + i) << 3, NO);
                    DoubleVector step = mv.div(bc1).div(vv.div(bc2).sqrt().add(eps));
                    theta.add(step.mul(nlr)).intoMemorySegment(ps, (off[0] + i) << 3, NO);
                }
            }
            for (; i < n; i++) { // scalar reference (and tail)
                long pi = off[0] + i * in[0];
                long mi = off[2] + i * in[2];
                long vi = off[3] + i * in[3];
                double p = ops[0].get(pi);
                double g = ops[1].get(off[1] + i * in[1]);
                if (l2) {
                    g = r.q(g + r.q(p * wd));
                }
                double theta = decoupled ? r.q(p * shrink) : p;
                double mv = r.q(r.q(ops[2].get(mi) * b1) + r.q(g * ob1));
                double vv = r.q(r.q(ops[3].get(vi) * b2) + r.q(r.q(g * g) * ob2));
                ops[2].set(mi, mv);
                ops[3].set(vi, vv);
                double step = r.q(r.q(mv / bc1) / r.q(r.q(Math.sqrt(r.q(vv / bc2))) + eps));
                ops[0].set(pi, r.q(theta + r.q(step * nlr)));
            }
        });
    }

    // ==== RMSProp =================================================================================

    static void rmsprop(Parallel par, List<Arg> params, List<Arg> grads, List<Arg> squareAvg, List<Arg> momentumBuf,
            List<Arg> gradAvg, RmsPropConfig cfg) {
        String op = "rmspropStep";
        int np = params.size();
        requireSizes(op, np, "grads", grads);
        requireSizes(op, np, "squareAvg", squareAvg);
        boolean mom = cfg.momentum() != 0;
        boolean centered = cfg.centered();
        if (mom) {
            requireSizes(op, np, "momentumBuf", momentumBuf);
        }
        if (centered) {
            requireSizes(op, np, "gradAvg", gradAvg);
        }
        for (int i = 0; i < np; i++) {
            Arg p = params.get(i);
            requireShape(op, "grads[" + i + "]", grads.get(i), p);
            requireShape(op, "squareAvg[" + i + "]", squareAvg.get(i), p);
            Arg buf = mom ? momentumBuf.get(i) : p;
            Arg ga = centered ? gradAvg.get(i) : p;
            if (mom) {
                requireShape(op, "momentumBuf[" + i + "]", buf, p);
            }
            if (centered) {
                requireShape(op, "gradAvg[" + i + "]", ga, p);
            }
            // operands: θ, g, sq, buf (θ again when unused), ga (θ again when unused)
            rmspropOne(par, new Arg[] {p, grads.get(i), squareAvg.get(i), buf, ga}, cfg, mom, centered);
        }
    }

    private static void rmspropOne(Parallel par, Arg[] ops, RmsPropConfig cfg, boolean mom, boolean centered) {
        boolean f32 = ops[0].dtype() == DType.FLOAT32;
        Round r = new Round(f32);
        boolean vec = vectorDtype(ops);
        boolean decay = cfg.weightDecay() != 0;
        double wd = r.q(cfg.weightDecay());
        double a = r.q(cfg.alpha());
        double oa = r.q(1 - cfg.alpha());
        double eps = r.q(cfg.eps());
        double mu = r.q(cfg.momentum());
        double nlr = r.q(-cfg.lr());
        MemorySegment ps = ops[0].seg();
        MemorySegment gs = ops[1].seg();
        MemorySegment ss = ops[2].seg();
        MemorySegment bs = ops[3].seg();
        MemorySegment as = ops[4].seg();
        each(par, ops, (off, in, n, dense) -> {
            long i = 0;
            if (vec && dense && f32) {
                long bound = FS.loopBound(n);
                for (; i < bound; i += FL) {
                    FloatVector p = FloatVector.fromMemorySegment(FS, ps, (off[0] + i) << 2, NO);
                    FloatVector g = FloatVector.fromMemorySegment(FS, gs, (off[1] + i) << 2, NO);
                    if (decay) {
                        g = g.add(p.mul((float) wd));                                   // g + θ·wd
                    }
                    FloatVector sq = FloatVector.fromMemorySegment(FS, ss, (off[2] + i) << 2, NO)
                            .mul((float) a).add(g.mul(g).mul((float) oa));               // α·sq + (1−α)·g²
                    sq.intoMemorySegment(ss, (off[2] + i) << 2, NO);
                    FloatVector root;
                    if (centered) {
                        FloatVector ga = FloatVector.fromMemorySegment(FS, as, (off[4] + i) << 2, NO)
                                .mul((float) a).add(g.mul((float) oa));                  // α·ga + (1−α)·g
                        ga.intoMemorySegment(as, (off[4] + i) << 2, NO);
                        root = sq.sub(ga.mul(ga)).sqrt();
                    } else {
                        root = sq.sqrt();
                    }
                    FloatVector q = g.div(root.add((float) eps));                        // g / (root + ε)
                    if (mom) {
                        q = q.add(FloatVector.fromMemorySegment(FS, bs, (off[3] + i) << 2, NO).mul((float) mu));
                        q.intoMemorySegment(bs, (off[3] + i) << 2, NO);                  // buf = g/avg + μ·buf
                    }
                    p.add(q.mul((float) nlr)).intoMemorySegment(ps, (off[0] + i) << 2, NO);
                }
            } else if (vec && dense) {
                long bound = DS.loopBound(n);
                for (; i < bound; i += DL) {
                    DoubleVector p = DoubleVector.fromMemorySegment(DS, ps, (off[0] + i) << 3, NO);
                    DoubleVector g = DoubleVector.fromMemorySegment(DS, gs, (off[1] + i) << 3, NO);
                    if (decay) {
                        g = g.add(p.mul(wd));
                    }
                    DoubleVector sq = DoubleVector.fromMemorySegment(DS, ss, (off[2] + i) << 3, NO)
                            .mul(a).add(g.mul(g).mul(oa));
                    sq.intoMemorySegment(ss, (off[2] + i) << 3, NO);
                    DoubleVector root;
                    if (centered) {
                        DoubleVector ga = DoubleVector.fromMemorySegment(DS, as, (off[4] + i) << 3, NO)
                                .mul(a).add(g.mul(oa));
                        ga.intoMemorySegment(as, (off[4] + i) << 3, NO);
                        root = sq.sub(ga.mul(ga)).sqrt();
                    } else {
                        root = sq.sqrt();
                    }
                    DoubleVector q = g.div(root.add(eps));
                    if (mom) {
                        q = q.add(DoubleVector.fromMemorySegment(DS, bs, (off[3] + i) << 3, NO).mul(mu));
                        q.intoMemorySegment(bs, (off[3] + i) << 3, NO);
                    }
                    p.add(q.mul(nlr)).intoMemorySegment(ps, (off[0] + i) << 3, NO);
                }
            }
            for (; i < n; i++) { // scalar reference (and tail)
                long pi = off[0] + i * in[0];
                long si = off[2] + i * in[2];
                double p = ops[0].get(pi);
                double g = ops[1].get(off[1] + i * in[1]);
                if (decay) {
                    g = r.q(g + r.q(p * wd));
                }
                double sq = r.q(r.q(ops[2].get(si) * a) + r.q(r.q(g * g) * oa));
                ops[2].set(si, sq);
                double root;
                if (centered) {
                    long gi = off[4] + i * in[4];
                    double ga = r.q(r.q(ops[4].get(gi) * a) + r.q(g * oa));
                    ops[4].set(gi, ga);
                    root = r.q(Math.sqrt(r.q(sq - r.q(ga * ga))));
                } else {
                    root = r.q(Math.sqrt(sq));
                }
                double q = r.q(g / r.q(root + eps));
                if (mom) {
                    long bi = off[3] + i * in[3];
                    q = r.q(q + r.q(ops[3].get(bi) * mu));
                    ops[3].set(bi, q);
                }
                ops[0].set(pi, r.q(p + r.q(q * nlr)));
            }
        });
    }
}
