package dev.sinew.nn;

import dev.sinew.Functional;
import dev.sinew.Generator;
import dev.sinew.Tensor;

/**
 * Channel dropout, as {@code torch.nn.Dropout2d(p)}: in training mode each whole channel of each
 * sample of {@code [N, C, H, W]} (or {@code [C, H, W]}) is zeroed with probability {@code p} and the
 * rest are scaled by {@code 1/(1−p)}; in evaluation mode it is the identity. One draw per channel
 * from the given {@link Generator}, so runs are reproducible and equal on every backend.
 *
 * <p>Holds no tensors; it shares (and advances) the generator it was given, so it is not
 * thread-safe.
 */
public final class Dropout2d extends Module {
    private final double p;
    private final Generator generator;

    public Dropout2d(double p, Generator generator) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("Dropout2d: probability p must be in [0, 1], got " + p);
        }
        if (generator == null) {
            throw new IllegalArgumentException("Dropout2d: generator must not be null");
        }
        this.p = p;
        this.generator = generator;
    }

    public double p() {
        return p;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Functional.dropout2d(x, p, generator, isTraining());
    }

    @Override
    protected String extraRepr() {
        return "p=" + p;
    }
}
