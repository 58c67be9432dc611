package dev.sinew;

import java.util.ArrayList;
import java.util.List;

/**
 * Owns the tensors created on one thread while it is open, and closes them when it closes.
 *
 * <pre>{@code
 * try (var scope = sn.scope()) {
 *     Tensor loss = Losses.crossEntropy(model.forward(x), y);
 *     loss.backward();
 *     optimizer.step();
 * }   // every temporary of the step is freed here; parameters, grads and optimiser state are not
 * }</pre>
 *
 * <p>Scopes nest. The one documented way for a result to outlive its scope is {@link #keep(Tensor)},
 * which hands it to the enclosing scope (or to the caller, who must then close it, if there is none).
 * {@link Tensor#detachFromScope()} hands a tensor straight to the caller; modules and optimisers use
 * it for their parameters and state. A scope is confined to the thread that opened it.
 */
public final class Scope implements AutoCloseable {
    private final Sinew sinew;
    private final Scope parent;
    private final Thread thread;
    private final List<Tensor> owned = new ArrayList<>();
    private boolean closed;

    Scope(Sinew sinew, Scope parent) {
        this.sinew = sinew;
        this.parent = parent;
        this.thread = Thread.currentThread();
    }

    void adopt(Tensor t) {
        owned.add(t);
        t.owner = this;
    }

    /** The enclosing scope, or null. */
    public Scope parent() {
        return parent;
    }

    /**
     * Moves {@code t} out of this scope into the enclosing one (or to the caller if there is none),
     * so that closing this scope leaves it open. Returns {@code t}.
     */
    public Tensor keep(Tensor t) {
        if (t.owner != this) {
            throw new IllegalArgumentException("scope.keep: tensor " + t.shape() + " is not owned by this scope");
        }
        t.owner = null;
        if (parent != null && !parent.closed) {
            parent.adopt(t);
        }
        return t;
    }

    /** Number of tensors this scope still owns and has not closed. */
    public int liveTensors() {
        int n = 0;
        for (Tensor t : owned) {
            if (t.owner == this && !t.isClosed()) {
                n++;
            }
        }
        return n;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Closes every tensor still owned by this scope, newest first. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("scope: closed on thread " + Thread.currentThread().getName()
                    + " but opened on " + thread.getName());
        }
        closed = true;
        sinew.popScope(this);
        for (int i = owned.size() - 1; i >= 0; i--) {
            Tensor t = owned.get(i);
            if (t.owner == this) {
                t.owner = null;
                t.close();
            }
        }
        owned.clear();
    }
}
