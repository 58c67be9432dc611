package dev.sinew.spi;

/**
 * Reductions of the primitive tier. {@code ARGMAX} writes INT64 indices (the first maximum on
 * ties, as PyTorch) and reduces exactly one axis; the others may reduce several at once.
 */
public enum ReduceOp {
    SUM, MAX, MIN, ARGMAX
}
