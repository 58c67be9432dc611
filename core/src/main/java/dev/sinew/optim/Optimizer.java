package dev.sinew.optim;

import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.spi.View;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

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
 *
 * <p><b>State for checkpoints.</b> Per-parameter state lives in named <em>slots</em> that
 * subclasses register in their constructor ({@link #registerStateSlot}, {@link #registerCounter}),
 * under PyTorch's names ({@code exp_avg}, {@code momentum_buffer}, {@code step}, ...).
 * {@link #stateDict()} returns them, with the learning rate and step count, as an
 * {@link OptimizerState}; {@link #loadStateDict} puts such a state back, so a resumed run continues
 * exactly. A subclass that keeps per-parameter state outside registered slots is not checkpointed
 * completely.
 */
public abstract class Optimizer implements AutoCloseable {
    private final String name;
    private final List<Tensor> params;
    private final Sinew sinew;
    private final List<Tensor> state = new ArrayList<>();
    private final LinkedHashMap<String, Tensor[]> slots = new LinkedHashMap<>();
    private final LinkedHashMap<String, long[]> counters = new LinkedHashMap<>();
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

    /** The optimiser's name, e.g. {@code "Adam"} (as in messages and {@link OptimizerState#optimizer()}). */
    public final String name() {
        return name;
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

    /**
     * Frees a state tensor made by {@link #newState} before the optimiser is closed (when loaded
     * state says a parameter has none). The caller drops its reference.
     */
    protected final void freeState(Tensor s) {
        for (int i = 0; i < state.size(); i++) {
            if (state.get(i) == s) {
                state.remove(i);
                s.close();
                return;
            }
        }
        throw new IllegalArgumentException(name + ": freeState: the tensor is not state of this optimiser");
    }

    /**
     * Registers the per-parameter state slot {@code slot} (PyTorch's key, e.g. {@code exp_avg}):
     * returns an array with one entry per parameter, all null, which the subclass keeps and fills
     * with {@link #newState} on a parameter's first update. {@link #stateDict()} and
     * {@link #loadStateDict} read and write the array. Call from the constructor only.
     */
    protected final Tensor[] registerStateSlot(String slot) {
        checkSlotName(slot);
        Tensor[] a = new Tensor[params.size()];
        slots.put(slot, a);
        return a;
    }

    /**
     * Registers a per-parameter counter (PyTorch's {@code step} of Adam): an array of zeros, one
     * per parameter, saved and loaded like the state slots. Call from the constructor only.
     */
    protected final long[] registerCounter(String counter) {
        checkSlotName(counter);
        long[] a = new long[params.size()];
        counters.put(counter, a);
        return a;
    }

    private void checkSlotName(String slot) {
        if (slot == null || slot.isEmpty() || slot.contains(".") || slots.containsKey(slot)
                || counters.containsKey(slot)) {
            throw new IllegalArgumentException(name + ": invalid or duplicate state slot name '" + slot + "'");
        }
    }

    /**
     * The optimiser's state: learning rate, step count, and every parameter's state tensors and
     * counters under {@code "<parameter index>.<slot>"} ({@code "0.exp_avg"}, {@code "3.step"}), as
     * in {@code torch.optim.Optimizer.state_dict()}. Parameters that were never updated have no
     * entries. The tensors are this optimiser's own, not copies: read them (e.g. write them to a
     * file) before the next {@link #step()} and do not close them.
     */
    public final OptimizerState stateDict() {
        checkOpen("stateDict");
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        LinkedHashMap<String, Long> counts = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            for (var e : slots.entrySet()) {
                if (e.getValue()[i] != null) {
                    tensors.put(i + "." + e.getKey(), e.getValue()[i]);
                }
            }
            for (var e : counters.entrySet()) {
                if (e.getValue()[i] != 0) {
                    counts.put(i + "." + e.getKey(), e.getValue()[i]);
                }
            }
        }
        return new OptimizerState(name, lr, stepCount, tensors, counts);
    }

    /**
     * Replaces this optimiser's state with {@code s} (from {@link #stateDict()}, possibly of another
     * run): the learning rate, the step count, and each parameter's state tensors (copied, converted
     * to the parameter's dtype, into tensors this optimiser owns) and counters. A parameter without
     * entries in {@code s} gets no state, as if never updated. Everything is checked before anything
     * changes; the caller keeps ownership of {@code s}'s tensors.
     *
     * @throws IllegalArgumentException naming, all at once, every problem: another optimiser's
     *                                  state, a key that is malformed, unknown or out of range, a
     *                                  tensor whose shape differs from its parameter's, a parameter
     *                                  with only some of its slots, a negative count or a bad rate
     */
    public final void loadStateDict(OptimizerState s) {
        checkOpen("loadStateDict");
        if (s == null) {
            throw new IllegalArgumentException(name + ".loadStateDict: state must not be null");
        }
        if (!name.equals(s.optimizer())) {
            throw new IllegalArgumentException(name + ".loadStateDict: the state is of " + s.optimizer() + ", not "
                    + name);
        }
        checkLr(name, s.lr());
        List<String> problems = new ArrayList<>();
        if (s.stepCount() < 0) {
            problems.add("negative step count " + s.stepCount());
        }
        TreeMap<Integer, Map<String, Tensor>> byParam = new TreeMap<>();
        for (var e : s.tensors().entrySet()) {
            int i = parseKey(e.getKey(), slots.keySet(), problems);
            if (i < 0) {
                continue;
            }
            Tensor t = e.getValue();
            if (t == null || t.isClosed()) {
                problems.add("'" + e.getKey() + "' is " + (t == null ? "null" : "closed"));
            } else if (!t.shape().equals(params.get(i).shape())) {
                problems.add("'" + e.getKey() + "' has shape " + t.shape() + " but parameter " + i + " is "
                        + params.get(i).shape());
            } else {
                byParam.computeIfAbsent(i, k -> new LinkedHashMap<>()).put(key(e.getKey()), t);
            }
        }
        TreeMap<Integer, Map<String, Long>> countsByParam = new TreeMap<>();
        for (var e : s.counters().entrySet()) {
            int i = parseKey(e.getKey(), counters.keySet(), problems);
            if (i < 0) {
                continue;
            }
            if (e.getValue() == null || e.getValue() < 0) {
                problems.add("counter '" + e.getKey() + "' is " + e.getValue() + ", not a count >= 0");
            } else {
                countsByParam.computeIfAbsent(i, k -> new LinkedHashMap<>()).put(key(e.getKey()), e.getValue());
            }
        }
        for (var e : byParam.entrySet()) {
            for (String slot : slots.keySet()) {
                if (!e.getValue().containsKey(slot)) {
                    problems.add("parameter " + e.getKey() + " has state but no '" + e.getKey() + "." + slot + "'");
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(name + ".loadStateDict: " + String.join("; ", problems));
        }
        try (var _ = sinew.noGrad()) {
            for (var e : slots.entrySet()) {
                Tensor[] a = e.getValue();
                for (int i = 0; i < a.length; i++) {
                    Map<String, Tensor> given = byParam.get(i);
                    Tensor src = given == null ? null : given.get(e.getKey());
                    if (src != null) {
                        if (a[i] == null) {
                            a[i] = newState(params.get(i));
                        }
                        a[i].copy_(src);
                    } else if (a[i] != null) {
                        freeState(a[i]);
                        a[i] = null;
                    }
                }
            }
        }
        for (var e : counters.entrySet()) {
            long[] a = e.getValue();
            for (int i = 0; i < a.length; i++) {
                Map<String, Long> given = countsByParam.get(i);
                Long v = given == null ? null : given.get(e.getKey());
                a[i] = v == null ? 0 : v;
            }
        }
        this.lr = s.lr();
        this.stepCount = s.stepCount();
    }

    /** The parameter index of {@code "<i>.<slot>"}, or -1 after adding a problem. */
    private int parseKey(String k, Set<String> known, List<String> problems) {
        int dot = k == null ? -1 : k.indexOf('.');
        int i = -1;
        if (dot > 0) {
            try {
                i = Integer.parseInt(k.substring(0, dot));
            } catch (NumberFormatException e) {
                i = -1;
            }
        }
        if (i < 0 || !k.substring(0, dot).equals(Integer.toString(i))) {
            problems.add("malformed key '" + k + "' (expected <parameter index>.<slot>)");
            return -1;
        }
        if (i >= params.size()) {
            problems.add("'" + k + "' names parameter " + i + " but there are " + params.size());
            return -1;
        }
        if (!known.contains(k.substring(dot + 1))) {
            problems.add("unexpected key '" + k + "' (" + name + " keeps " + (known.isEmpty() ? "nothing" : known)
                    + " here)");
            return -1;
        }
        return i;
    }

    private static String key(String k) {
        return k.substring(k.indexOf('.') + 1);
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
