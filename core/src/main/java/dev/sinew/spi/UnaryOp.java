package dev.sinew.spi;

/** Elementwise one-operand ops of the primitive tier. Semantics are those of the reference backend. */
public enum UnaryOp {
    NEG, ABS, SIGN, EXP, LOG, SQRT, RSQRT, RECIPROCAL, SQUARE, TANH, SIGMOID, RELU, SIN, COS
}
