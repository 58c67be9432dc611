package dev.sinew.spi;

/**
 * Distributions for {@link Backend#random}. Parameters {@code (a, b)}: UNIFORM on [a, b),
 * NORMAL with mean a and standard deviation b, BERNOULLI 1 with probability a (b unused).
 */
public enum Distribution {
    UNIFORM, NORMAL, BERNOULLI
}
