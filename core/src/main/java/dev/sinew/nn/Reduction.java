package dev.sinew.nn;

/** How a loss combines its per-element values, as PyTorch's {@code reduction} argument. */
public enum Reduction {
    /** The mean (for cross-entropy and NLL: over the rows whose label is not ignored). */
    MEAN,
    /** The sum. */
    SUM,
    /** No reduction: one value per element (per row for classification losses). */
    NONE
}
