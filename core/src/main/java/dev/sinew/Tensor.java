package dev.sinew;

import dev.sinew.spi.Backend;
import dev.sinew.spi.BinaryOp;
import dev.sinew.spi.ReduceOp;
import dev.sinew.spi.UnaryOp;
import dev.sinew.spi.View;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * An n-dimensional array on one backend, with reverse-mode autograd.
 *
 * <p><b>Storage and views.</b> A tensor is a strided {@link View} of a reference-counted storage.
 * View ops ({@link #reshape}, {@link #permute}, {@link #transpose}, {@link #slice}, {@link #expand},
 * {@link #squeeze}, {@link #unsqueeze}) share the storage and copy nothing; every other op writes a
 * new contiguous tensor.
 *
 * <p><b>Ownership.</b> A tensor made while a {@link Scope} is open on this thread belongs to that
 * scope and is closed with it; otherwise it belongs to the caller. {@link Scope#keep} and
 * {@link #detachFromScope()} move ownership. Closing a view releases only its reference to the
 * shared storage. Any use after close throws {@link IllegalStateException}. A leaf's gradient
 * ({@link #grad()}) belongs to the leaf and is closed with it.
 *
 * <p><b>Autograd.</b> When grad mode is on ({@link Sinew#noGrad()} turns it off) and an input
 * {@link #requiresGrad()}, an op records a {@link Node} with its gradient rule; {@link #backward()}
 * runs the tape. Gradients accumulate into leaves until {@link #zeroGrad()}.
 *
 * <p><b>Errors.</b> Every op checks its arguments and throws {@link IllegalArgumentException} naming
 * the op, the argument and the shapes. Mixed dtypes are refused; convert with {@link #to(DType)}.
 *
 * <p>Not thread-safe: a tensor must not be used by two threads at once.
 */
public final class Tensor implements AutoCloseable {
    private final Sinew sn;
    private final View view;
    private final Shape shape;
    private boolean closed;
    Scope owner;

    private boolean requiresGrad;
    private Node gradFn;
    private Tensor grad;

    Tensor(Sinew sn, View view, Shape shape) {
        this.sn = sn;
        this.view = view;
        this.shape = shape;
        Scope s = sn.currentScope();
        if (s != null) {
            s.adopt(this);
        }
    }

    // ---- basic facts -----------------------------------------------------------------------------

    public Shape shape() {
        return shape;
    }

    public long[] dims() {
        return shape.toArray();
    }

    public DType dtype() {
        return view.dtype();
    }

    public long numel() {
        return shape.numel();
    }

    public int rank() {
        return shape.rank();
    }

    /** Size of {@code axis} (negative counts from the end). */
    public long size(int axis) {
        return shape.size(axis);
    }

    public Sinew sinew() {
        return sn;
    }

    public Backend backend() {
        return sn.backend();
    }

    /** The strided view this tensor is, for optimisers and backends; checks the tensor is open. */
    public View storageView() {
        checkOpen("storageView");
        return view;
    }

    public boolean isContiguous() {
        return view.isContiguous();
    }

    // ---- ownership -----------------------------------------------------------------------------

    public boolean isClosed() {
        return closed;
    }

    /** Frees this tensor's reference to its storage (and its gradient). Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        gradFn = null;
        view.storage().release();
        if (grad != null) {
            Tensor g = grad;
            grad = null;
            g.close();
        }
    }

    /**
     * Removes this tensor from the scope that owns it: the caller now owns it and must close it.
     * Modules and optimisers use this for parameters and state. Returns this.
     */
    public Tensor detachFromScope() {
        checkOpen("detachFromScope");
        owner = null;
        return this;
    }

    private void checkOpen(String op) {
        if (closed) {
            throw new IllegalStateException(op + ": tensor " + shape + " " + dtype() + " was already closed");
        }
        view.storage().checkLive();
    }

    // ---- autograd ------------------------------------------------------------------------------

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Marks a leaf as needing a gradient. Only floating tensors can. Returns this. */
    public Tensor requiresGrad(boolean on) {
        checkOpen("requiresGrad");
        if (on && !dtype().isFloating()) {
            throw new IllegalArgumentException("requiresGrad: only floating tensors can require grad, got "
                    + dtype());
        }
        if (!on && gradFn != null) {
            throw new IllegalArgumentException(
                    "requiresGrad(false): tensor " + shape + " is the result of '" + gradFn.op
                            + "'; use detach() instead");
        }
        requiresGrad = on;
        return this;
    }

    /** The accumulated gradient of a leaf, or null; owned by this tensor. */
    public Tensor grad() {
        return grad;
    }

    Node gradFn() {
        return gradFn;
    }

    /** The name of the op that produced this tensor, or null for a leaf. */
    public String gradFnName() {
        return gradFn == null ? null : gradFn.op;
    }

    /** Frees the accumulated gradient. */
    public void zeroGrad() {
        if (grad != null) {
            grad.close();
            grad = null;
        }
    }

    /** Back-propagates from this scalar. */
    public void backward() {
        checkOpen("backward");
        if (numel() != 1) {
            throw new IllegalArgumentException("backward: needs a scalar (one element) output, got shape " + shape
                    + "; pass the output gradient with backward(grad)");
        }
        backward(sn.full(1, dtype(), shape.toArray()));
    }

    /** Back-propagates {@code gradOut} (this tensor's shape) through the recorded ops. */
    public void backward(Tensor gradOut) {
        checkOpen("backward");
        if (!requiresGrad) {
            throw new IllegalStateException("backward: tensor " + shape
                    + " does not require grad (no input required grad, or it was made under noGrad)");
        }
        if (!gradOut.shape.equals(shape) || gradOut.dtype() != dtype()) {
            throw new IllegalArgumentException("backward: gradient " + gradOut.shape + " " + gradOut.dtype()
                    + " does not match output " + shape + " " + dtype());
        }
        Autograd.backward(this, gradOut);
    }

    /** Called by the engine for leaves. The stored gradient is contiguous and owned by this leaf. */
    void accumulateGrad(Tensor g) {
        if (grad == null) {
            Tensor c = sn.empty(dtype(), shape.toArray());
            c.detachFromScope();
            backend().copy(g.storageView(), c.view);
            grad = c;
        } else {
            backend().binary(BinaryOp.ADD, grad.view, g.storageView(), grad.view);
        }
    }

    /** The same data, cut from the graph (shares storage, never requires grad). */
    public Tensor detach() {
        checkOpen("detach");
        view.storage().retain();
        return new Tensor(sn, view, shape);
    }

    private boolean recording(Tensor... inputs) {
        if (!sn.isGradEnabled()) {
            return false;
        }
        for (Tensor t : inputs) {
            if (t != null && t.requiresGrad) {
                return true;
            }
        }
        return false;
    }

    /** Records {@code rule} for {@code out} if any input requires grad. Returns out. */
    private Tensor record(Tensor out, String op, Node.Rule rule, Tensor... inputs) {
        if (recording(inputs)) {
            out.requiresGrad = true;
            out.gradFn = new Node(op, inputs.clone(), rule); // the caller may reuse its varargs array
        }
        return out;
    }

    /** Records a rule over several inputs (nulls allowed) on {@code out} (for fused ops with many inputs). */
    static Tensor recordMany(Tensor out, String op, Node.Rule rule, Tensor... inputs) {
        return out.record(out, op, rule, inputs);
    }

    /** Records a one-input rule on {@code out} with this tensor as the input (for {@link Functional}). */
    Tensor recordExternal(Tensor out, String op, Node.Rule rule) {
        return record(out, op, rule, this);
    }

    // ---- helpers -----------------------------------------------------------------------------------

    private void checkSame(String op, Tensor other) {
        checkOpen(op);
        other.checkOpen(op);
        if (other.sn != sn) {
            throw new IllegalArgumentException(op + ": tensors belong to different Sinew contexts ("
                    + sn + " vs " + other.sn + ")");
        }
        if (other.dtype() != dtype()) {
            throw new IllegalArgumentException(op + ": dtype mismatch, " + shape + " " + dtype() + " vs "
                    + other.shape + " " + other.dtype() + "; convert one with to(DType)");
        }
    }

    private void checkFloating(String op) {
        if (!dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": needs a floating tensor, got " + shape + " " + dtype());
        }
    }

    /** A view of this tensor broadcast to {@code target} (stride 0 on new or size-1 axes). */
    private View broadcastView(Shape target) {
        int r = target.rank();
        long[] st = new long[r];
        long[] sh = target.toArray();
        int off = r - rank();
        for (int i = 0; i < r; i++) {
            int j = i - off;
            if (j < 0 || (view.shape()[j] == 1 && sh[i] != 1)) {
                st[i] = 0;
            } else {
                st[i] = view.strides()[j];
            }
        }
        return new View(view.storage(), view.offset(), sh, st);
    }

    private Tensor newLike(Shape s, DType dt) {
        return sn.empty(dt, s.toArray());
    }

    private Tensor scalarLike(double v) {
        return sn.full(v, dtype());
    }

    /** Casts to {@code dt} and closes this tensor if a copy was made (internal factory helper). */
    Tensor toOwned(DType dt) {
        if (dt == dtype()) {
            return this;
        }
        Tensor t = to(dt);
        close();
        return t;
    }

    // ---- elementwise ---------------------------------------------------------------------------

    private Tensor unaryRaw(UnaryOp op) {
        Tensor out = newLike(shape, dtype());
        backend().unary(op, view, out.view);
        return out;
    }

    private Tensor unary(String name, UnaryOp op, Node.Rule rule) {
        checkOpen(name);
        checkFloating(name);
        return record(unaryRaw(op), name, rule, this);
    }

    private Tensor binaryRaw(String name, BinaryOp op, Tensor other) {
        checkSame(name, other);
        Shape s = Shape.broadcast(name, shape, other.shape);
        Tensor out = newLike(s, dtype());
        backend().binary(op, broadcastView(s), other.broadcastView(s), out.view);
        return out;
    }

    public Tensor add(Tensor o) {
        return record(binaryRaw("add", BinaryOp.ADD, o), "add", g -> new Tensor[] {g, g}, this, o);
    }

    public Tensor sub(Tensor o) {
        return record(binaryRaw("sub", BinaryOp.SUB, o), "sub", g -> new Tensor[] {g, g.neg()}, this, o);
    }

    public Tensor mul(Tensor o) {
        return record(binaryRaw("mul", BinaryOp.MUL, o), "mul",
                g -> new Tensor[] {requiresGrad ? g.mul(o) : null, o.requiresGrad ? g.mul(this) : null}, this, o);
    }

    public Tensor div(Tensor o) {
        return record(binaryRaw("div", BinaryOp.DIV, o), "div",
                g -> new Tensor[] {g.div(o), o.requiresGrad ? g.mul(this).div(o.mul(o)).neg() : null}, this, o);
    }

    /** Elementwise maximum; where equal the gradient is split evenly, as in PyTorch. */
    public Tensor maximum(Tensor o) {
        return record(binaryRaw("maximum", BinaryOp.MAX, o), "maximum", g -> {
            Tensor share = gt(o).add(eq(o).mul(0.5));
            return new Tensor[] {g.mul(share), g.mul(share.neg().add(1.0))};
        }, this, o);
    }

    public Tensor minimum(Tensor o) {
        return record(binaryRaw("minimum", BinaryOp.MIN, o), "minimum", g -> {
            Tensor share = lt(o).add(eq(o).mul(0.5));
            return new Tensor[] {g.mul(share), g.mul(share.neg().add(1.0))};
        }, this, o);
    }

    /** {@code this ^ o} elementwise. */
    public Tensor pow(Tensor o) {
        return record(binaryRaw("pow", BinaryOp.POW, o), "pow", g -> new Tensor[] {
            g.mul(o).mul(pow(o.sub(1.0))),
            o.requiresGrad ? g.mul(pow(o)).mul(log()) : null}, this, o);
    }

    public Tensor add(double v) {
        checkOpen("add");
        try (Tensor s = scalarLike(v).detachFromScope()) {
            return record(binaryRaw("add", BinaryOp.ADD, s), "add", g -> new Tensor[] {g}, this);
        }
    }

    public Tensor sub(double v) {
        return add(-v);
    }

    public Tensor mul(double v) {
        checkOpen("mul");
        try (Tensor s = scalarLike(v).detachFromScope()) {
            return record(binaryRaw("mul", BinaryOp.MUL, s), "mul", g -> new Tensor[] {g.mul(v)}, this);
        }
    }

    public Tensor div(double v) {
        return mul(1.0 / v);
    }

    public Tensor pow(double p) {
        checkOpen("pow");
        checkFloating("pow");
        try (Tensor s = scalarLike(p).detachFromScope()) {
            return record(binaryRaw("pow", BinaryOp.POW, s), "pow", g -> new Tensor[] {g.mul(pow(p - 1)).mul(p)},
                    this);
        }
    }

    public Tensor neg() {
        checkOpen("neg");
        return record(unaryRaw(UnaryOp.NEG), "neg", g -> new Tensor[] {g.neg()}, this);
    }

    public Tensor exp() {
        Tensor[] out = new Tensor[1];
        out[0] = unary("exp", UnaryOp.EXP, g -> new Tensor[] {g.mul(out[0].detachedValue())});
        return out[0];
    }

    public Tensor log() {
        return unary("log", UnaryOp.LOG, g -> new Tensor[] {g.div(this)});
    }

    public Tensor sqrt() {
        Tensor[] out = new Tensor[1];
        out[0] = unary("sqrt", UnaryOp.SQRT, g -> new Tensor[] {g.div(out[0].detachedValue().mul(2.0))});
        return out[0];
    }

    public Tensor tanh() {
        Tensor[] out = new Tensor[1];
        out[0] = unary("tanh", UnaryOp.TANH, g -> {
            Tensor y = out[0].detachedValue();
            return new Tensor[] {g.mul(y.mul(y).neg().add(1.0))};
        });
        return out[0];
    }

    public Tensor sigmoid() {
        Tensor[] out = new Tensor[1];
        out[0] = unary("sigmoid", UnaryOp.SIGMOID, g -> {
            Tensor y = out[0].detachedValue();
            return new Tensor[] {g.mul(y.mul(y.neg().add(1.0)))};
        });
        return out[0];
    }

    public Tensor relu() {
        return unary("relu", UnaryOp.RELU, g -> new Tensor[] {g.mul(gt(0.0))});
    }

    public Tensor abs() {
        return unary("abs", UnaryOp.ABS, g -> new Tensor[] {g.mul(unaryRaw(UnaryOp.SIGN))});
    }

    public Tensor square() {
        return unary("square", UnaryOp.SQUARE, g -> new Tensor[] {g.mul(this).mul(2.0)});
    }

    public Tensor sign() {
        checkOpen("sign");
        return unaryRaw(UnaryOp.SIGN);
    }

    /** Clamps into [lo, hi]; the gradient passes where lo ≤ x ≤ hi (as PyTorch). */
    public Tensor clamp(double lo, double hi) {
        checkOpen("clamp");
        checkFloating("clamp");
        if (lo > hi) {
            throw new IllegalArgumentException("clamp: min " + lo + " is greater than max " + hi);
        }
        Tensor out;
        try (NoGrad ng = sn.noGrad();
                Tensor l = scalarLike(lo).detachFromScope();
                Tensor h = scalarLike(hi).detachFromScope()) {
            Tensor t = binaryRaw("clamp", BinaryOp.MAX, l);
            out = t.binaryRaw("clamp", BinaryOp.MIN, h);
            t.closeIfUnowned();
        }
        return record(out, "clamp", g -> new Tensor[] {g.mul(ge(lo)).mul(le(hi))}, this);
    }

    /** A detached alias of this tensor's value, for gradient rules that reuse an op's output. */
    private Tensor detachedValue() {
        return detach();
    }

    private void closeIfUnowned() {
        if (owner == null) {
            close();
        }
    }

    // ---- comparisons (no gradient) -----------------------------------------------------------

    private Tensor compare(String name, BinaryOp op, Tensor o) {
        return binaryRaw(name, op, o);
    }

    private Tensor compare(String name, BinaryOp op, double v) {
        checkOpen(name);
        try (Tensor s = scalarLike(v).detachFromScope()) {
            return binaryRaw(name, op, s);
        }
    }

    public Tensor eq(Tensor o) {
        return compare("eq", BinaryOp.EQ, o);
    }

    public Tensor ne(Tensor o) {
        return compare("ne", BinaryOp.NE, o);
    }

    public Tensor lt(Tensor o) {
        return compare("lt", BinaryOp.LT, o);
    }

    public Tensor le(Tensor o) {
        return compare("le", BinaryOp.LE, o);
    }

    public Tensor gt(Tensor o) {
        return compare("gt", BinaryOp.GT, o);
    }

    public Tensor ge(Tensor o) {
        return compare("ge", BinaryOp.GE, o);
    }

    public Tensor eq(double v) {
        return compare("eq", BinaryOp.EQ, v);
    }

    public Tensor ne(double v) {
        return compare("ne", BinaryOp.NE, v);
    }

    public Tensor lt(double v) {
        return compare("lt", BinaryOp.LT, v);
    }

    public Tensor le(double v) {
        return compare("le", BinaryOp.LE, v);
    }

    public Tensor gt(double v) {
        return compare("gt", BinaryOp.GT, v);
    }

    public Tensor ge(double v) {
        return compare("ge", BinaryOp.GE, v);
    }

    /** {@code cond != 0 ? a : b}, broadcasting all three; a and b must share a dtype. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        a.checkSame("where", b);
        cond.checkOpen("where");
        if (cond.sn != a.sn) {
            throw new IllegalArgumentException("where: condition belongs to a different Sinew context");
        }
        Shape s = Shape.broadcast("where", Shape.broadcast("where", cond.shape, a.shape), b.shape);
        Tensor out = a.newLike(s, a.dtype());
        a.backend().where(cond.broadcastView(s), a.broadcastView(s), b.broadcastView(s), out.view);
        return a.record(out, "where", g -> {
            Tensor z = g.sn.zeros(g.dtype(), 1);
            return new Tensor[] {where(cond, g, z), where(cond, z, g)};
        }, a, b);
    }

    // ---- reductions --------------------------------------------------------------------------

    private int[] normaliseAxes(String op, int[] axes) {
        boolean[] seen = new boolean[rank()];
        int[] out = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            int a = shape.axis(axes[i]);
            if (seen[a]) {
                throw new IllegalArgumentException(op + ": axis " + axes[i] + " given twice for shape " + shape);
            }
            seen[a] = true;
            out[i] = a;
        }
        Arrays.sort(out);
        return out;
    }

    private long[] keptShape(int[] axes) {
        long[] s = shape.toArray();
        for (int a : axes) {
            s[a] = 1;
        }
        return s;
    }

    private static long[] droppedShape(long[] kept, int[] axes) {
        long[] out = new long[kept.length - axes.length];
        int j = 0;
        int k = 0;
        for (int i = 0; i < kept.length; i++) {
            if (k < axes.length && axes[k] == i) {
                k++;
            } else {
                out[j++] = kept[i];
            }
        }
        return out;
    }

    private Tensor reduceRaw(ReduceOp op, int[] axes, DType outType) {
        long[] kept = keptShape(axes);
        Tensor out = sn.empty(outType, kept);
        backend().reduce(op, view, out.view);
        return out;
    }

    private int[] allAxes() {
        int[] a = new int[rank()];
        for (int i = 0; i < a.length; i++) {
            a[i] = i;
        }
        return a;
    }

    /** Sum of all elements, as a scalar. */
    public Tensor sum() {
        return sum(allAxes(), false);
    }

    public Tensor sum(int axis, boolean keepDim) {
        return sum(new int[] {axis}, keepDim);
    }

    public Tensor sum(int[] axes, boolean keepDim) {
        checkOpen("sum");
        int[] ax = normaliseAxes("sum", axes);
        if (rank() == 0) {
            return record(reshapeRaw(shape), "sum", g -> new Tensor[] {g}, this);
        }
        Tensor kept = record(reduceRaw(ReduceOp.SUM, ax, dtype()), "sum",
                g -> new Tensor[] {g.expand(shape.toArray())}, this);
        return keepDim ? kept : kept.reshape(droppedShape(kept.dims(), ax));
    }

    public Tensor mean() {
        return mean(allAxes(), false);
    }

    public Tensor mean(int axis, boolean keepDim) {
        return mean(new int[] {axis}, keepDim);
    }

    public Tensor mean(int[] axes, boolean keepDim) {
        checkOpen("mean");
        checkFloating("mean");
        int[] ax = normaliseAxes("mean", axes);
        long n = 1;
        for (int a : ax) {
            n *= shape.size(a);
        }
        return sum(ax, keepDim).mul(1.0 / n);
    }

    /**
     * Maximum along {@code axis}. The gradient is shared evenly among tied maxima (like
     * {@code torch.amax}).
     */
    public Tensor max(int axis, boolean keepDim) {
        checkOpen("max");
        int[] ax = normaliseAxes("max", new int[] {axis});
        Tensor kept = reduceRaw(ReduceOp.MAX, ax, dtype());
        Tensor m = kept;
        kept = record(kept, "max", g -> {
            Tensor mask = eq(m.detachedValue().expand(shape.toArray()));
            return new Tensor[] {g.expand(shape.toArray()).mul(mask).div(mask.sum(ax, true))};
        }, this);
        return keepDim ? kept : kept.reshape(droppedShape(kept.dims(), ax));
    }

    public Tensor min(int axis, boolean keepDim) {
        return neg().max(axis, keepDim).neg();
    }

    /** Index of the first maximum along {@code axis}, as INT64 with that axis removed. */
    public Tensor argmax(int axis) {
        checkOpen("argmax");
        int[] ax = normaliseAxes("argmax", new int[] {axis});
        Tensor kept = reduceRaw(ReduceOp.ARGMAX, ax, DType.INT64);
        Tensor r = kept.reshapeRaw(Shape.of(droppedShape(kept.dims(), ax)));
        kept.closeIfUnowned();
        return r;
    }

    /** Reduces a broadcast gradient back to {@code target} (sums the broadcast axes). */
    Tensor sumToShape(Shape target) {
        if (shape.equals(target)) {
            return this;
        }
        int lead = rank() - target.rank();
        int[] axes = new int[rank()];
        int n = 0;
        for (int i = 0; i < rank(); i++) {
            if (i < lead || (target.size(i - lead) == 1 && shape.size(i) != 1)) {
                axes[n++] = i;
            }
        }
        Tensor s = n == 0 ? this : sum(Arrays.copyOf(axes, n), true);
        return s.reshape(target.toArray());
    }

    // ---- matrix product --------------------------------------------------------------------------

    /** {@code [P, M, K] · [P, K, N] → [P, M, N]}; the one matmul primitive with a gradient rule. */
    private Tensor bmm(Tensor b) {
        Tensor a = this;
        Tensor out = sn.empty(dtype(), new long[] {view.shape()[0], view.shape()[1], b.view.shape()[2]});
        backend().matmul(a.view, b.view, out.view);
        return record(out, "matmul", g -> new Tensor[] {
            a.requiresGrad ? g.bmm(b.transpose(1, 2)) : null,
            b.requiresGrad ? a.transpose(1, 2).bmm(g) : null}, a, b);
    }

    /** Matrix product with {@code torch.matmul}'s rules for 1-D, 2-D and batched operands. */
    public Tensor matmul(Tensor o) {
        checkSame("matmul", o);
        checkFloating("matmul");
        if (rank() == 0 || o.rank() == 0) {
            throw new IllegalArgumentException("matmul: operands must have at least one dimension, got "
                    + shape + " and " + o.shape);
        }
        Tensor a = rank() == 1 ? unsqueeze(0) : this;
        Tensor b = o.rank() == 1 ? o.unsqueeze(1) : o;
        long k = a.size(-1);
        if (b.size(-2) != k) {
            throw new IllegalArgumentException("matmul: inner dimensions differ, " + shape + " · " + o.shape
                    + " (" + k + " vs " + b.size(-2) + ")");
        }
        long m = a.size(-2);
        long n = b.size(-1);
        long[] aBatch = Arrays.copyOf(a.dims(), a.rank() - 2);
        long[] bBatch = Arrays.copyOf(b.dims(), b.rank() - 2);
        long[] batch = aBatch.length == 0 && bBatch.length == 0 ? new long[0]
                : Shape.broadcast("matmul", Shape.of(pad1(aBatch)), Shape.of(pad1(bBatch))).toArray();
        long p = 1;
        for (long d : batch) {
            p *= d;
        }
        Tensor a3 = to3d(a, batch, p, m, k);
        Tensor b3 = to3d(b, batch, p, k, n);
        Tensor c = a3.bmm(b3); // [P, M, N]
        long[] outShape = concat(batch, new long[] {m, n});
        Tensor r = c.reshape(outShape);
        if (o.rank() == 1) {
            r = r.squeeze(-1);
        }
        if (rank() == 1) {
            r = r.squeeze(r.rank() == 1 && o.rank() == 1 ? 0 : -2);
        }
        return r;
    }

    private static long[] pad1(long[] d) {
        return d.length == 0 ? new long[] {1} : d;
    }

    /** Broadcasts {@code t}'s batch dims to {@code batch} and folds them into one: [P, r, c]. */
    private static Tensor to3d(Tensor t, long[] batch, long p, long r, long c) {
        if (t.rank() == 2) {
            // One matrix for every batch entry: batch stride 0, no copy.
            return t.unsqueeze(0).expand(p, r, c);
        }
        Tensor e = t.expand(concat(batch, new long[] {r, c}));
        return e.reshape(p, r, c);
    }

    private static long[] concat(long[] x, long[] y) {
        long[] out = Arrays.copyOf(x, x.length + y.length);
        System.arraycopy(y, 0, out, x.length, y.length);
        return out;
    }

    // ---- views -----------------------------------------------------------------------------------

    private Tensor viewOf(long offset, long[] sh, long[] st) {
        view.storage().retain();
        return new Tensor(sn, view.with(offset, sh, st), Shape.of(sh));
    }

    /** Strides for {@code newShape} over this view's memory without copying, or null if impossible. */
    private long[] reshapeStrides(long[] newShape) {
        if (view.isContiguous()) {
            return View.contiguousStrides(newShape);
        }
        // General case (as numpy's _attempt_nocopy_reshape): match runs of old dims to new dims.
        long[] os = view.shape();
        long[] ost = view.strides();
        long[] nst = new long[newShape.length];
        int oi = 0;
        int ni = 0;
        while (oi < os.length && ni < newShape.length) {
            long np = newShape[ni];
            long op = os[oi];
            int oj = oi + 1;
            int nj = ni + 1;
            while (np != op) {
                if (np < op) {
                    np *= newShape[nj++];
                } else {
                    op *= os[oj++];
                }
            }
            for (int q = oi; q < oj - 1; q++) {
                if (os[q + 1] != 1 && ost[q] != os[q + 1] * ost[q + 1]) {
                    return null;
                }
            }
            nst[nj - 1] = ost[oj - 1];
            for (int q = nj - 1; q > ni; q--) {
                nst[q - 1] = nst[q] * newShape[q];
            }
            oi = oj;
            ni = nj;
        }
        for (; ni < newShape.length; ni++) {
            nst[ni] = 1;
        }
        return nst;
    }

    private Tensor reshapeRaw(Shape target) {
        long[] ns = target.toArray();
        long[] st = reshapeStrides(ns);
        if (st != null) {
            return viewOf(view.offset(), ns, st);
        }
        Tensor c = contiguousRaw();
        Tensor r = c.viewOf(c.view.offset(), ns, View.contiguousStrides(ns));
        c.closeIfUnowned();
        return r;
    }

    /** The same elements with a new shape; one size may be -1. Copies only when the strides demand it. */
    public Tensor reshape(long... newShape) {
        checkOpen("reshape");
        long[] ns = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < ns.length; i++) {
            if (ns[i] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException("reshape: only one dimension can be -1, got "
                            + Arrays.toString(newShape));
                }
                infer = i;
            } else if (ns[i] <= 0) {
                throw new IllegalArgumentException("reshape: dimension " + i + " of " + Arrays.toString(newShape)
                        + " must be positive");
            } else {
                known *= ns[i];
            }
        }
        if (infer >= 0) {
            if (numel() % known != 0) {
                throw new IllegalArgumentException("reshape: cannot view " + shape + " (" + numel()
                        + " elements) as " + Arrays.toString(newShape));
            }
            ns[infer] = numel() / known;
        }
        Shape target = Shape.of(ns);
        if (target.numel() != numel()) {
            throw new IllegalArgumentException("reshape: cannot view " + shape + " (" + numel()
                    + " elements) as " + target + " (" + target.numel() + " elements)");
        }
        Shape from = shape;
        return record(reshapeRaw(target), "reshape", g -> new Tensor[] {g.reshape(from.toArray())}, this);
    }

    /** Alias of {@link #reshape}. */
    public Tensor view(long... newShape) {
        return reshape(newShape);
    }

    /** Flattens dimensions {@code startDim..} into one. */
    public Tensor flatten(int startDim) {
        checkOpen("flatten");
        if (rank() == 0) {
            return reshape(1);
        }
        int s = shape.axis(startDim);
        long[] ns = Arrays.copyOf(dims(), s + 1);
        long tail = 1;
        for (int i = s; i < rank(); i++) {
            tail *= shape.size(i);
        }
        ns[s] = tail;
        return reshape(ns);
    }

    /** Reorders dimensions: result dimension i is this tensor's dimension {@code order[i]}. */
    public Tensor permute(int... order) {
        checkOpen("permute");
        if (order.length != rank()) {
            throw new IllegalArgumentException("permute: order " + Arrays.toString(order) + " does not match rank "
                    + rank() + " of " + shape);
        }
        int[] ax = new int[order.length];
        boolean[] seen = new boolean[order.length];
        long[] ns = new long[order.length];
        long[] nst = new long[order.length];
        for (int i = 0; i < order.length; i++) {
            ax[i] = shape.axis(order[i]);
            if (seen[ax[i]]) {
                throw new IllegalArgumentException("permute: axis " + order[i] + " repeated in "
                        + Arrays.toString(order));
            }
            seen[ax[i]] = true;
            ns[i] = view.shape()[ax[i]];
            nst[i] = view.strides()[ax[i]];
        }
        int[] inverse = new int[ax.length];
        for (int i = 0; i < ax.length; i++) {
            inverse[ax[i]] = i;
        }
        return record(viewOf(view.offset(), ns, nst), "permute", g -> new Tensor[] {g.permute(inverse)}, this);
    }

    /** Swaps two dimensions. */
    public Tensor transpose(int a, int b) {
        checkOpen("transpose");
        int[] order = new int[rank()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        int x = shape.axis(a);
        int y = shape.axis(b);
        order[x] = y;
        order[y] = x;
        return permute(order);
    }

    /** Transpose of a 2-D tensor. */
    public Tensor t() {
        if (rank() != 2) {
            throw new IllegalArgumentException("t: needs a 2-D tensor, got " + shape + "; use transpose(a, b)");
        }
        return transpose(0, 1);
    }

    /** Repeats size-1 dimensions (and adds leading ones) without copying: stride 0. */
    public Tensor expand(long... target) {
        checkOpen("expand");
        Shape t;
        try {
            t = Shape.of(target);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("expand: " + e.getMessage(), e);
        }
        if (t.rank() < rank()) {
            throw new IllegalArgumentException("expand: cannot expand " + shape + " to fewer dimensions " + t);
        }
        int off = t.rank() - rank();
        for (int i = 0; i < rank(); i++) {
            if (shape.size(i) != 1 && shape.size(i) != t.size(i + off)) {
                throw new IllegalArgumentException("expand: cannot expand " + shape + " to " + t + " (dimension "
                        + i + " has size " + shape.size(i) + ")");
            }
        }
        if (t.equals(shape)) {
            return record(viewOf(view.offset(), dims(), view.strides().clone()), "expand", g -> new Tensor[] {g},
                    this);
        }
        View bv = broadcastView(t);
        return record(viewOf(bv.offset(), bv.shape(), bv.strides()), "expand", g -> new Tensor[] {g}, this);
    }

    /** Elements {@code start..end-1} of dimension {@code dim} (negative indices count from the end). */
    public Tensor slice(int dim, long start, long end) {
        checkOpen("slice");
        int d = shape.axis(dim);
        long n = shape.size(d);
        long s = start < 0 ? start + n : start;
        long e = end < 0 ? end + n : Math.min(end, n);
        if (s < 0 || s >= e) {
            throw new IllegalArgumentException("slice: range [" + start + ", " + end + ") of dimension " + dim
                    + " (size " + n + ") of " + shape + " is empty or out of bounds");
        }
        long[] ns = dims();
        ns[d] = e - s;
        long off = view.offset() + s * view.strides()[d];
        Shape from = shape;
        long from0 = s;
        return record(viewOf(off, ns, view.strides().clone()), "slice", g -> {
            Tensor z = g.sn.zeros(g.dtype(), from.toArray());
            Tensor part = z.slice(d, from0, from0 + ns[d]);
            part.copy_(g);
            return new Tensor[] {z};
        }, this);
    }

    /** Removes dimension {@code dim}, which must have size 1. */
    public Tensor squeeze(int dim) {
        checkOpen("squeeze");
        int d = shape.axis(dim);
        if (shape.size(d) != 1) {
            throw new IllegalArgumentException("squeeze: dimension " + dim + " of " + shape + " has size "
                    + shape.size(d) + ", not 1");
        }
        long[] ns = new long[rank() - 1];
        long[] st = new long[rank() - 1];
        for (int i = 0, j = 0; i < rank(); i++) {
            if (i != d) {
                ns[j] = view.shape()[i];
                st[j++] = view.strides()[i];
            }
        }
        Shape from = shape;
        return record(viewOf(view.offset(), ns, st), "squeeze", g -> new Tensor[] {g.reshape(from.toArray())},
                this);
    }

    /** Inserts a size-1 dimension at {@code dim} (in [−rank−1, rank]). */
    public Tensor unsqueeze(int dim) {
        checkOpen("unsqueeze");
        int d = dim < 0 ? dim + rank() + 1 : dim;
        if (d < 0 || d > rank()) {
            throw new IllegalArgumentException("unsqueeze: dimension " + dim + " out of range for " + shape);
        }
        long[] ns = new long[rank() + 1];
        long[] st = new long[rank() + 1];
        for (int i = 0, j = 0; i < ns.length; i++) {
            if (i == d) {
                ns[i] = 1;
                st[i] = d < rank() ? view.strides()[d] * view.shape()[d] : 1;
            } else {
                ns[i] = view.shape()[j];
                st[i] = view.strides()[j++];
            }
        }
        Shape from = shape;
        return record(viewOf(view.offset(), ns, st), "unsqueeze", g -> new Tensor[] {g.reshape(from.toArray())},
                this);
    }

    private Tensor contiguousRaw() {
        Tensor out = newLike(shape, dtype());
        backend().copy(view, out.view);
        return out;
    }

    /** This tensor if contiguous, else a contiguous copy. */
    public Tensor contiguous() {
        checkOpen("contiguous");
        if (view.isContiguous()) {
            return record(viewOf(view.offset(), dims(), view.strides().clone()), "contiguous",
                    g -> new Tensor[] {g}, this);
        }
        return record(contiguousRaw(), "contiguous", g -> new Tensor[] {g}, this);
    }

    /** A contiguous copy (always a new storage). */
    public Tensor copy() {
        checkOpen("copy");
        return record(contiguousRaw(), "copy", g -> new Tensor[] {g}, this);
    }

    /** Concatenates tensors along {@code dim}; all other sizes must match. */
    public static Tensor cat(int dim, Tensor... partsIn) {
        Tensor[] parts = partsIn.clone(); // the gradient rule keeps it; the caller may reuse its array
        if (parts.length == 0) {
            throw new IllegalArgumentException("cat: needs at least one tensor");
        }
        Tensor first = parts[0];
        int d = first.shape.axis(dim);
        long total = 0;
        for (Tensor p : parts) {
            first.checkSame("cat", p);
            if (p.rank() != first.rank()) {
                throw new IllegalArgumentException("cat: tensors of rank " + first.rank() + " and " + p.rank());
            }
            for (int i = 0; i < p.rank(); i++) {
                if (i != d && p.size(i) != first.size(i)) {
                    throw new IllegalArgumentException("cat: shapes " + first.shape + " and " + p.shape
                            + " differ in dimension " + i);
                }
            }
            total += p.size(d);
        }
        long[] ns = first.dims();
        ns[d] = total;
        Tensor out = first.sn.empty(first.dtype(), ns);
        long at = 0;
        long[] starts = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            Tensor p = parts[i];
            starts[i] = at;
            View dst = out.view.with(at * out.view.strides()[d], p.dims(), out.view.strides());
            first.backend().copy(p.view, dst);
            at += p.size(d);
        }
        return first.record(out, "cat", g -> {
            Tensor[] gs = new Tensor[parts.length];
            for (int i = 0; i < parts.length; i++) {
                gs[i] = g.slice(d, starts[i], starts[i] + parts[i].size(d));
            }
            return gs;
        }, parts);
    }

    // ---- softmax family ----------------------------------------------------------------------

    private Tensor softmaxImpl(String name, int dim, boolean log) {
        checkOpen(name);
        checkFloating(name);
        if (rank() == 0) {
            throw new IllegalArgumentException(name + ": needs at least one dimension, got a scalar");
        }
        int d = shape.axis(dim);
        if (d != rank() - 1) {
            // The fused op works on the last axis: move dim there and back (views, autograd included).
            return transpose(d, -1).softmaxImpl(name, -1, log).transpose(d, -1);
        }
        Tensor out = newLike(shape, dtype());
        backend().softmax(view, out.view, log);
        Tensor y = out;
        return record(out, name, g -> {
            Tensor dx = newLike(shape, dtype());
            Tensor gc = g.isContiguous() ? g : g.contiguousRaw();
            backend().softmaxBackward(y.view, gc.view, dx.view, log);
            return new Tensor[] {dx};
        }, this);
    }

    /** Softmax along {@code dim}, computed stably. */
    public Tensor softmax(int dim) {
        return softmaxImpl("softmax", dim, false);
    }

    /** Log-softmax along {@code dim}, computed stably. */
    public Tensor logSoftmax(int dim) {
        return softmaxImpl("logSoftmax", dim, true);
    }

    // ---- casts and in-place --------------------------------------------------------------------

    /** A copy converted to {@code dt} (differentiable between floating types); this if already dt. */
    public Tensor to(DType dt) {
        checkOpen("to");
        if (dt == dtype()) {
            return this;
        }
        Tensor out = newLike(shape, dt);
        backend().copy(view, out.view);
        DType from = dtype();
        if (dt.isFloating() && from.isFloating()) {
            return record(out, "to", g -> new Tensor[] {g.to(from)}, this);
        }
        return out;
    }

    /** Copies {@code src} (broadcast to this shape, converted to this dtype) into this tensor. */
    public Tensor copy_(Tensor src) {
        checkOpen("copy_");
        src.checkOpen("copy_");
        if (requiresGrad && gradFn == null && sn.isGradEnabled()) {
            throw new IllegalStateException("copy_: in-place write into a leaf that requires grad; use noGrad()");
        }
        Shape s = Shape.broadcast("copy_", shape, src.shape);
        if (!s.equals(shape)) {
            throw new IllegalArgumentException("copy_: source " + src.shape + " does not broadcast to " + shape);
        }
        backend().copy(src.broadcastView(shape), view);
        return this;
    }

    /** Sets every element to {@code v}. */
    public Tensor fill_(double v) {
        checkOpen("fill_");
        if (requiresGrad && gradFn == null && sn.isGradEnabled()) {
            throw new IllegalStateException("fill_: in-place write into a leaf that requires grad; use noGrad()");
        }
        backend().fill(view, v);
        return this;
    }

    // ---- reading values --------------------------------------------------------------------------

    /** The value of a one-element tensor. */
    public double item() {
        checkOpen("item");
        if (numel() != 1) {
            throw new IllegalArgumentException("item: tensor has " + numel() + " elements " + shape + ", not 1");
        }
        return toDoubleArray()[0];
    }

    /** The element at {@code index} (one index per dimension). */
    public double getDouble(long... index) {
        checkOpen("getDouble");
        if (index.length != rank()) {
            throw new IllegalArgumentException("getDouble: " + index.length + " indices for shape " + shape);
        }
        long off = view.offset();
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape.size(i)) {
                throw new IllegalArgumentException("getDouble: index " + Arrays.toString(index)
                        + " is out of bounds for shape " + shape);
            }
            off += index[i] * view.strides()[i];
        }
        View one = view.with(off, new long[0], new long[0]);
        double[] out = new double[1];
        if (dtype() == DType.FLOAT64) {
            backend().copyToHost(one, MemorySegment.ofArray(out));
        } else if (dtype() == DType.FLOAT32) {
            float[] f = new float[1];
            backend().copyToHost(one, MemorySegment.ofArray(f));
            out[0] = f[0];
        } else {
            long[] l = new long[1];
            backend().copyToHost(one, MemorySegment.ofArray(l));
            out[0] = l[0];
        }
        return out[0];
    }

    private void checkHostSize(String op) {
        if (numel() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(op + ": " + numel() + " elements do not fit a Java array");
        }
    }

    public float[] toFloatArray() {
        checkOpen("toFloatArray");
        checkHostSize("toFloatArray");
        if (dtype() != DType.FLOAT32) {
            try (NoGrad ng = sn.noGrad(); Tensor c = to(DType.FLOAT32).detachFromScope()) {
                return c.toFloatArray();
            }
        }
        float[] out = new float[(int) numel()];
        backend().copyToHost(view, MemorySegment.ofArray(out));
        return out;
    }

    public double[] toDoubleArray() {
        checkOpen("toDoubleArray");
        checkHostSize("toDoubleArray");
        if (dtype() != DType.FLOAT64) {
            try (NoGrad ng = sn.noGrad(); Tensor c = to(DType.FLOAT64).detachFromScope()) {
                return c.toDoubleArray();
            }
        }
        double[] out = new double[(int) numel()];
        backend().copyToHost(view, MemorySegment.ofArray(out));
        return out;
    }

    public long[] toLongArray() {
        checkOpen("toLongArray");
        checkHostSize("toLongArray");
        if (dtype() != DType.INT64) {
            try (NoGrad ng = sn.noGrad(); Tensor c = to(DType.INT64).detachFromScope()) {
                return c.toLongArray();
            }
        }
        long[] out = new long[(int) numel()];
        backend().copyToHost(view, MemorySegment.ofArray(out));
        return out;
    }

    @Override
    public String toString() {
        if (closed) {
            return "Tensor" + shape + " " + view.dtype() + " (closed)";
        }
        StringBuilder sb = new StringBuilder("Tensor").append(shape).append(' ').append(dtype());
        if (gradFn != null) {
            sb.append(" grad_fn=").append(gradFn.op);
        } else if (requiresGrad) {
            sb.append(" requires_grad");
        }
        if (numel() <= 16) {
            sb.append(' ').append(Arrays.toString(toDoubleArray()));
        }
        return sb.toString();
    }
}
