package dev.sinew.nn;

import dev.sinew.Functional;
import dev.sinew.Generator;
import dev.sinew.Tensor;

/**
 * Inverted dropout, as {@code torch.nn.Dropout(p)}: in training mode each element is zeroed with
 * probability {@code p} and the rest are scaled by {@code 1/(1−p)}; in evaluation mode it is the
 * identity. The mask comes from the given {@link Generator}, so runs are reproducible and equal on
 * every backend.
 *
 * <p>Holds no tensors; it shares (and advances) the generator it was given, so it is not
 * thread-safe.
 */
public final class Dropout extends Module {
    private final double p;
    private final Generator generator;

    public Dropout(double p, Generator generator) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("Dropout: probability p must be in [0, 1], got " + p);
        }
        if (generator == null) {
            throw new IllegalArgumentException("Dropout: generator must not be null");
        }
        this.p = p;
        this.generator = generator;
    }

    public double p() {
        return p;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Functional.dropout(x, p, generator, isTraining());
    }

    @Override
    protected String extraRepr() {
        return "p=" + p;
    }
}
