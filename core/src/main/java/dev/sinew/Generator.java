package dev.sinew;

import dev.sinew.spi.Philox;

/**
 * A seeded source of randomness: a Philox key ({@code seed}) and a counter ({@code offset}).
 *
 * <p>Every random tensor reserves a run of counters, so the numbers depend only on the seed and the
 * order of calls, never on the backend or its thread count. The state is two longs, which makes it
 * easy to checkpoint ({@link #offset()}, {@link #setState}). Not thread-safe: use one generator per
 * thread, or synchronise.
 */
public final class Generator {
    private long seed;
    private long offset;

    public Generator(long seed) {
        this.seed = seed;
    }

    public long seed() {
        return seed;
    }

    public long offset() {
        return offset;
    }

    public void setState(long seed, long offset) {
        if (offset < 0) {
            throw new IllegalArgumentException("generator: offset must be >= 0, got " + offset);
        }
        this.seed = seed;
        this.offset = offset;
    }

    /** Reserves {@code n} counters and returns the first. */
    public long reserve(long n) {
        if (n < 0) {
            throw new IllegalArgumentException("generator: cannot reserve " + n + " counters");
        }
        long o = offset;
        offset = Math.addExact(offset, n);
        return o;
    }

    /** A uniform double in [0, 1). */
    public double nextDouble() {
        return Philox.uniform(seed, reserve(1));
    }

    /** 64 random bits. */
    public long nextLong() {
        int[] w = new int[4];
        Philox.block(seed, reserve(1), w);
        return ((long) w[0] << 32) ^ (w[1] & 0xFFFFFFFFL);
    }

    /** A uniform int in [0, bound), without modulo bias. */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("generator: bound must be positive, got " + bound);
        }
        long limit = (1L << 32) - ((1L << 32) % bound);
        while (true) {
            long r = nextLong() >>> 32;
            if (r < limit) {
                return (int) (r % bound);
            }
        }
    }

    @Override
    public String toString() {
        return "Generator[seed=" + seed + ", offset=" + offset + "]";
    }
}
