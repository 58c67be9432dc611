package dev.sinew.spi;

/**
 * Elementwise two-operand ops of the primitive tier. Comparisons write 1 where true and 0 where
 * false, in the output's dtype. {@code MAX}/{@code MIN} propagate NaN like PyTorch's
 * {@code maximum}/{@code minimum}.
 */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, MAX, MIN, POW, EQ, NE, LT, LE, GT, GE;

    /** Whether the result is a 0/1 truth value. */
    public boolean isComparison() {
        return ordinal() >= EQ.ordinal();
    }
}
