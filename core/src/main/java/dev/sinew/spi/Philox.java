package dev.sinew.spi;

/**
 * Counter-based random numbers (Philox4x32-10, Salmon et al. 2011, as in cuRAND): the value at
 * counter {@code c} under key {@code seed} depends on nothing else, so every backend and every
 * launch shape produces the same numbers for the same (seed, offset). Element {@code i} of a
 * random fill with offset {@code o} uses counter {@code o + i}.
 *
 * <p>All values are computed in double; float32 tensors store the rounded double.
 */
public final class Philox {
    private static final int M0 = 0xD2511F53;
    private static final int M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;
    private static final double TWO_POW_M53 = 0x1.0p-53;

    private Philox() {
    }

    /** The four 32-bit words for counter {@code c} under key {@code seed}, in {@code out[0..3]}. */
    public static void block(long seed, long c, int[] out) {
        // counter words (c0, c1) = (low, high) of c and c2 = c3 = 0; key words (k0, k1) = (low, high) of seed
        block((int) c, (int) (c >>> 32), 0, 0, (int) seed, (int) (seed >>> 32), out);
    }

    /**
     * The full Philox4x32-10 bijection: counter {@code (c0, c1, c2, c3)} under key {@code (k0, k1)},
     * result in {@code out[0..3]}. This is Random123's {@code philox4x32(ctr, key)}, so its
     * known-answer vectors apply; {@link #block(long, long, int[])} is the case {@code c2 = c3 = 0}.
     */
    public static void block(int c0, int c1, int c2, int c3, int k0, int k1, int[] out) {
        for (int r = 0; r < 10; r++) {
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
            int n1 = (int) p1;
            int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
            int n3 = (int) p0;
            c0 = n0;
            c1 = n1;
            c2 = n2;
            c3 = n3;
            k0 += W0;
            k1 += W1;
        }
        out[0] = c0;
        out[1] = c1;
        out[2] = c2;
        out[3] = c3;
    }

    private static double unit(int hi, int lo) {
        long bits = ((hi & 0xFFFFFFFFL) << 21) ^ ((lo & 0xFFFFFFFFL) >>> 11);
        return (bits & ((1L << 53) - 1)) * TWO_POW_M53;
    }

    /** Uniform on [0, 1) with 53 random bits. */
    public static double uniform(long seed, long c) {
        int[] w = new int[4];
        block(seed, c, w);
        return unit(w[0], w[1]);
    }

    /** Standard normal by Box–Muller from the counter's two 53-bit uniforms. */
    public static double normal(long seed, long c) {
        int[] w = new int[4];
        block(seed, c, w);
        double u1 = 1.0 - unit(w[0], w[1]); // (0, 1]: log is finite
        double u2 = unit(w[2], w[3]);
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
    }

    /** One sample of {@code dist} with parameters (a, b) at counter {@code c}. */
    public static double sample(Distribution dist, double a, double b, long seed, long c) {
        return switch (dist) {
            case UNIFORM -> a + (b - a) * uniform(seed, c);
            case NORMAL -> a + b * normal(seed, c);
            case BERNOULLI -> uniform(seed, c) < a ? 1.0 : 0.0;
        };
    }
}
