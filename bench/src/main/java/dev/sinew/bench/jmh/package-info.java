/**
 * JMH benchmarks of the backend SPI, one benchmark per op family, each on every backend here that
 * is available ({@code @Param backend}); run as the README's {@code ./sinew bench} section shows.
 */
package dev.sinew.bench.jmh;
