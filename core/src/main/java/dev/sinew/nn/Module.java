package dev.sinew.nn;

import dev.sinew.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A layer or a network of layers: named parameters and buffers, registered in order, plus named
 * child modules, as in {@code torch.nn.Module}.
 *
 * <p><b>Names.</b> {@link #namedParameters()} and {@link #stateDict()} use PyTorch's state-dict names:
 * a module's own entries first, then each child's under {@code childName.}, recursively
 * ({@code 0.weight}, {@code fc1.bias}, {@code 2.1.weight}), so checkpoints map one to one onto
 * PyTorch's.
 *
 * <p><b>Ownership and lifetime.</b> A module owns the parameters and buffers it registers: they are
 * taken out of any open {@link dev.sinew.Scope} ({@link Tensor#detachFromScope()}), so they outlive
 * the training step that uses them, and they are freed, with their gradients, by {@link #close()}.
 * Closing a module also closes its children. Tensors returned by {@link #forward} are ordinary
 * results owned by the scope open at the call (or by the caller when none is open).
 *
 * <p>Not thread-safe: a module (like its tensors) must be used by one thread at a time.
 */
public abstract class Module implements AutoCloseable {
    private final LinkedHashMap<String, Tensor> params = new LinkedHashMap<>();
    private final LinkedHashMap<String, Tensor> buffers = new LinkedHashMap<>();
    private final LinkedHashMap<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;
    private boolean closed;

    protected Module() {
    }

    /** Computes this module's output for input {@code x}. */
    public abstract Tensor forward(Tensor x);

    // ---- registration ----------------------------------------------------------------------------

    private void checkName(String kind, String name) {
        if (name == null || name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": " + kind + " name '" + name
                    + "' must be non-empty and contain no '.'");
        }
        if (params.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": name '" + name
                    + "' is already registered");
        }
    }

    private void checkOpen(String op) {
        if (closed) {
            throw new IllegalStateException(getClass().getSimpleName() + "." + op + ": module was closed");
        }
    }

    /**
     * Registers a trainable parameter: this module takes ownership ({@code detachFromScope}) and
     * marks it {@code requiresGrad}. The tensor must be floating and open. Returns {@code t}.
     */
    protected final Tensor registerParameter(String name, Tensor t) {
        checkOpen("registerParameter");
        checkName("parameter", name);
        if (t == null || t.isClosed()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": parameter '" + name
                    + "' is " + (t == null ? "null" : "closed"));
        }
        if (!t.dtype().isFloating()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": parameter '" + name + "' "
                    + t.shape() + " has dtype " + t.dtype() + "; parameters must be floating");
        }
        t.detachFromScope().requiresGrad(true);
        params.put(name, t);
        return t;
    }

    /**
     * Registers a non-trainable state tensor (running statistics and the like): it appears in
     * {@link #stateDict()} and is closed with the module. Returns {@code t}.
     */
    protected final Tensor registerBuffer(String name, Tensor t) {
        checkOpen("registerBuffer");
        checkName("buffer", name);
        if (t == null || t.isClosed()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": buffer '" + name
                    + "' is " + (t == null ? "null" : "closed"));
        }
        buffers.put(name, t.detachFromScope());
        return t;
    }

    /**
     * Registers a child module under {@code name}; it is closed with this one and takes this
     * module's current training/evaluation mode. Returns it.
     */
    protected final <M extends Module> M registerModule(String name, M m) {
        checkOpen("registerModule");
        checkName("module", name);
        if (m == null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": module '" + name + "' is null");
        }
        if (m == this) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": a module cannot contain itself");
        }
        m.train(training);
        children.put(name, m);
        return m;
    }

    // ---- introspection ---------------------------------------------------------------------------

    /** This module's direct children, in registration order (read-only). */
    public final Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /**
     * Every parameter of this module and its descendants under its state-dict name, in PyTorch's
     * order; a tensor shared by two modules appears once, under its first name.
     */
    public final LinkedHashMap<String, Tensor> namedParameters() {
        checkOpen("namedParameters");
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, Collections.newSetFromMap(new IdentityHashMap<>()), true, false);
        return out;
    }

    /** The parameters of {@link #namedParameters()}, in order (what optimisers take). */
    public final List<Tensor> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Every buffer of this module and its descendants, by state-dict name. */
    public final LinkedHashMap<String, Tensor> namedBuffers() {
        checkOpen("namedBuffers");
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, Collections.newSetFromMap(new IdentityHashMap<>()), false, true);
        return out;
    }

    /**
     * Parameters and buffers by state-dict name, as {@code torch.nn.Module.state_dict()} orders
     * them (each module's parameters, then its buffers, then its children). The tensors are this
     * module's own, not copies: do not close them.
     */
    public final LinkedHashMap<String, Tensor> stateDict() {
        checkOpen("stateDict");
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, null, true, true);
        return out;
    }

    private void collect(String prefix, Map<String, Tensor> out, Set<Tensor> seen, boolean withParams,
            boolean withBuffers) {
        if (withParams) {
            for (var e : params.entrySet()) {
                if (seen == null || seen.add(e.getValue())) {
                    out.put(prefix + e.getKey(), e.getValue());
                }
            }
        }
        if (withBuffers) {
            for (var e : buffers.entrySet()) {
                if (seen == null || seen.add(e.getValue())) {
                    out.put(prefix + e.getKey(), e.getValue());
                }
            }
        }
        for (var e : children.entrySet()) {
            e.getValue().collect(prefix + e.getKey() + ".", out, seen, withParams, withBuffers);
        }
    }

    /** Total number of trainable scalars. */
    public final long numParameters() {
        long n = 0;
        for (Tensor t : namedParameters().values()) {
            n += t.numel();
        }
        return n;
    }

    /**
     * Copies {@code state} into this module's parameters and buffers (in place, under no-grad, with
     * dtype conversion). With {@code strict}, the key sets must match exactly; otherwise unknown and
     * missing keys are ignored. Shapes must match. The caller keeps ownership of {@code state}.
     */
    public final void loadStateDict(Map<String, Tensor> state, boolean strict) {
        checkOpen("loadStateDict");
        LinkedHashMap<String, Tensor> mine = stateDict();
        if (strict) {
            List<String> missing = new ArrayList<>();
            for (String k : mine.keySet()) {
                if (!state.containsKey(k)) {
                    missing.add(k);
                }
            }
            List<String> unexpected = new ArrayList<>();
            for (String k : state.keySet()) {
                if (!mine.containsKey(k)) {
                    unexpected.add(k);
                }
            }
            if (!missing.isEmpty() || !unexpected.isEmpty()) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ".loadStateDict: missing keys "
                        + missing + ", unexpected keys " + unexpected);
            }
        }
        for (var e : mine.entrySet()) {
            Tensor src = state.get(e.getKey());
            if (src == null) {
                continue;
            }
            Tensor dst = e.getValue();
            if (!src.shape().equals(dst.shape())) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ".loadStateDict: '" + e.getKey()
                        + "' has shape " + src.shape() + " in the state dict but " + dst.shape() + " in the module");
            }
            try (var _ = dst.sinew().noGrad()) {
                dst.copy_(src);
            }
        }
    }

    // ---- modes and gradients ---------------------------------------------------------------------

    /** Sets training mode ({@code true}) or evaluation mode on this module and all descendants. */
    public final Module train(boolean on) {
        training = on;
        for (Module m : children.values()) {
            m.train(on);
        }
        return this;
    }

    /** {@code train(true)}. */
    public final Module train() {
        return train(true);
    }

    /** {@code train(false)}: dropout becomes the identity. */
    public final Module eval() {
        return train(false);
    }

    public final boolean isTraining() {
        return training;
    }

    /** Frees every parameter's gradient (like PyTorch's {@code zero_grad(set_to_none=True)}). */
    public final void zeroGrad() {
        checkOpen("zeroGrad");
        for (Tensor p : namedParameters().values()) {
            p.zeroGrad();
        }
    }

    // ---- lifetime --------------------------------------------------------------------------------

    public final boolean isClosed() {
        return closed;
    }

    /** Closes parameters (with their gradients), buffers and children. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Tensor t : params.values()) {
            t.close();
        }
        for (Tensor t : buffers.values()) {
            t.close();
        }
        for (Module m : children.values()) {
            m.close();
        }
    }

    // ---- printing --------------------------------------------------------------------------------

    /** The part inside the parentheses of {@link #toString()}, e.g. {@code in_features=4, …}. */
    protected String extraRepr() {
        return "";
    }

    /** A PyTorch-style description of the module tree. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(getClass().getSimpleName()).append('(').append(extraRepr());
        if (!children.isEmpty()) {
            sb.append('\n');
            for (var e : children.entrySet()) {
                String child = e.getValue().toString().replace("\n", "\n  ");
                sb.append("  (").append(e.getKey()).append("): ").append(child).append('\n');
            }
        }
        return sb.append(')').toString();
    }
}
