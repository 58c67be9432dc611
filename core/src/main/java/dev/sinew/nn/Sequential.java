package dev.sinew.nn;

import dev.sinew.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Modules applied one after another, as {@code torch.nn.Sequential}: children are named
 * {@code "0"}, {@code "1"}, … so parameters get PyTorch's names ({@code 0.weight}, {@code 2.bias}).
 *
 * <p>Ownership: the container owns its children and closes them in {@link #close()}; a module
 * must not be added to two containers that are both closed. Not thread-safe.
 */
public final class Sequential extends Module {
    private final List<Module> layers = new ArrayList<>();

    public Sequential(Module... modules) {
        for (Module m : modules) {
            add(m);
        }
    }

    public Sequential(List<? extends Module> modules) {
        for (Module m : modules) {
            add(m);
        }
    }

    /** Appends {@code m} under the next index. Returns this. */
    public Sequential add(Module m) {
        registerModule(Integer.toString(layers.size()), m);
        layers.add(m);
        return this;
    }

    /** The i-th module. */
    public Module get(int i) {
        if (i < 0 || i >= layers.size()) {
            throw new IllegalArgumentException("Sequential.get: index " + i + " out of range for " + layers.size()
                    + " modules");
        }
        return layers.get(i);
    }

    public int size() {
        return layers.size();
    }

    /** The modules in order (read-only). */
    public List<Module> modules() {
        return Collections.unmodifiableList(layers);
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor y = x;
        for (Module m : layers) {
            y = m.forward(y);
        }
        return y;
    }
}
