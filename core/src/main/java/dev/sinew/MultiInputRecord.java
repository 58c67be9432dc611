package dev.sinew;

/**
 * Records an op with several differentiable inputs (a convolution's input, weight and bias) on the
 * tape as one node, with a rule that is told which inputs need a gradient so that it computes only
 * those (a backward-filter call is skipped when the weight is frozen, say).
 *
 * <p>Stateless; the recorded closures live as long as the tape that holds them.
 */
final class MultiInputRecord {
    private MultiInputRecord() {
    }

    /** The gradient rule of an op: one gradient per input, computed only where {@code needed[i]}. */
    @FunctionalInterface
    interface Rule {
        Tensor[] apply(Tensor gradOut, boolean[] needed);
    }

    /**
     * Records {@code rule} for {@code out} over {@code inputs} (null entries allowed) when grad mode is
     * on and any input requires grad; returns {@code out}.
     */
    static Tensor record(Tensor out, String op, Rule rule, Tensor... inputs) {
        if (!out.sinew().isGradEnabled()) {
            return out;
        }
        boolean[] needed = new boolean[inputs.length];
        boolean any = false;
        for (int i = 0; i < inputs.length; i++) {
            needed[i] = inputs[i] != null && inputs[i].requiresGrad();
            any |= needed[i];
        }
        if (!any) {
            return out;
        }
        return Tensor.recordMany(out, op, g -> rule.apply(g, needed), inputs);
    }
}
