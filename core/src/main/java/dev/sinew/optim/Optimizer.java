package dev.sinew.optim;

import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.spi.View;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;

/**
 * Updates a fixed list of parameters from their gradients, as {@code torch.optim.Optimizer} with one
 * parameter group.
 *
 * <p>Each {@link #step()} skips parameters without a gradient and applies the backend's fused
 * optimiser op once to all the others (a second call happens only when parameters are at different
 * points of their history, e.g. one got its first gradient later than the rest).
 *
 * <p><b>Ownership.</b> The parameters belong to their module; the optimiser only reads and updates
 * them. It owns its state tensors (momentum buffers, moment estimates): they are created on a
 * parameter's first update, outside any scope ({@link Tensor#detachFromScope()}), and freed by
 * {@link #close()}, which must come before the parameters' module is closed or at any point after
 * the last step. Not thread-safe.
 */
public abstract class Optimizer implements AutoCloseable {
    private final String name;
    private final List<Tensor> params;
    private final Sinew sinew;
    private final List<Tensor> state = new ArrayList<>();
    private double lr;
    private long stepCount;
    private boolean closed;

    /**
     * @param name   for messages, e.g. {@code "SGD"}
     * @param params the parameters, each at most once, all of one {@link Sinew}, floating
     * @param lr     the learning rate, {@code >= 0}
     */
    protected Optimizer(String name, List<Tensor> params, double lr) {
        this.name = name;
        if (params == null || params.isEmpty()) {
            throw new IllegalArgumentException(name + ": needs at least one parameter, got an empty list");
        }
        IdentityHashMap<Tensor, Integer> seen = new IdentityHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            Tensor p = params.get(i);
            if (p == null) {
                throw new IllegalArgumentException(name + ": parameter " + i + " is null");
            }
            if (p.isClosed()) {
                throw new IllegalArgumentException(name + ": parameter " + i + " " + p.shape() + " is closed");
            }
            if (!p.dtype().isFloating()) {
                throw new IllegalArgumentException(name + ": parameter " + i + " " + p.shape() + " has dtype "
                        + p.dtype() + "; only floating tensors can be optimised");
            }
            if (p.sinew() != params.get(0).sinew()) {
                throw new IllegalArgumentException(name + ": parameter " + i
                        + " belongs to a different Sinew context than parameter 0");
            }
            Integer prev = seen.put(p, i);
            if (prev != null) {
                throw new IllegalArgumentException(name + ": parameters " + prev + " and " + i
                        + " are the same tensor; a parameter may appear only once");
            }
        }
        this.params = List.copyOf(params);
        this.sinew = params.get(0).sinew();
        checkLr(name, lr);
        this.lr = lr;
    }

    static void checkLr(String name, double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException(name + ": invalid learning rate " + lr + " (must be finite and >= 0)");
        }
    }

    static void checkNonNegative(String name, String what, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(name + ": invalid " + what + " " + v + " (must be finite and >= 0)");
        }
    }

    /** The parameters, in the order given (read-only). */
    public final List<Tensor> params() {
        return params;
    }

    public final double lr() {
        return lr;
    }

    /** Sets the learning rate used by the following steps (schedulers call this). */
    public final void setLr(double lr) {
        checkLr(name, lr);
        this.lr = lr;
    }

    /** How many times {@link #step()} has run. */
    public final long stepCount() {
        return stepCount;
    }

    /** Frees every parameter's gradient (like {@code zero_grad(set_to_none=True)}). */
    public final void zeroGrad() {
        checkOpen("zeroGrad");
        for (Tensor p : params) {
            p.zeroGrad();
        }
    }

    /** Updates every parameter that has a gradient, in place. */
    public final void step() {
        checkOpen("step");
        List<Integer> active = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            Tensor p = params.get(i);
            if (p.isClosed()) {
                throw new IllegalStateException(name + ".step: parameter " + i + " " + p.shape()
                        + " was closed (was its module closed before the optimiser?)");
            }
            Tensor g = p.grad();
            if (g == null) {
                continue;
            }
            if (!g.shape().equals(p.shape()) || g.dtype() != p.dtype()) {
                throw new IllegalStateException(name + ".step: gradient " + g.shape() + " " + g.dtype()
                        + " of parameter " + i + " does not match the parameter " + p.shape() + " " + p.dtype());
            }
            active.add(i);
        }
        stepCount++;
        if (!active.isEmpty()) {
            update(Collections.unmodifiableList(active));
        }
    }

    /**
     * Applies one update to the parameters at {@code active} (indexes into {@link #params()}), all
     * of which have a gradient. Implementations call the backend's fused op.
     */
    protected abstract void update(List<Integer> active);

    /** The Sinew the parameters belong to. */
    protected final Sinew sinew() {
        return sinew;
    }

    /** A zero tensor shaped like {@code param}, owned by this optimiser until {@link #close()}. */
    protected final Tensor newState(Tensor param) {
        Tensor s = sinew.zeros(param.dtype(), param.dims()).detachFromScope();
        state.add(s);
        return s;
    }

    /** The storage views of {@code tensors} at {@code idx} (for the fused ops). */
    protected static List<View> views(Tensor[] tensors, List<Integer> idx) {
        List<View> out = new ArrayList<>(idx.size());
        for (int i : idx) {
            out.add(tensors[i].storageView());
        }
        return out;
    }

    /** The parameters' views at {@code idx}. */
    protected final List<View> paramViews(List<Integer> idx) {
        List<View> out = new ArrayList<>(idx.size());
        for (int i : idx) {
            out.add(params.get(i).storageView());
        }
        return out;
    }

    /** The gradients' views at {@code idx}. */
    protected final List<View> gradViews(List<Integer> idx) {
        List<View> out = new ArrayList<>(idx.size());
        for (int i : idx) {
            out.add(params.get(i).grad().storageView());
        }
        return out;
    }

    /** Number of state tensors this optimiser holds. */
    public final int stateTensors() {
        return state.size();
    }

    private void checkOpen(String op) {
        if (closed) {
            throw new IllegalStateException(name + "." + op + ": optimiser was closed");
        }
    }

    public final boolean isClosed() {
        return closed;
    }

    /** Frees the optimiser's state (not the parameters). Idempotent. */
    @Override
    public final void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Tensor s : state) {
            s.close();
        }
        state.clear();
    }

    @Override
    public String toString() {
        return name + "(lr=" + lr + ", params=" + params.size() + ", steps=" + stepCount + ")";
    }
}
