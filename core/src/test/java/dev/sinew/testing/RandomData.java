package dev.sinew.testing;

import java.util.SplittableRandom;

/**
 * Seeded test data: arrays drawn from a {@link SplittableRandom} over a {@link Domain} chosen for
 * the op under test (positive for LOG, ties for MAX, NaNs for propagation checks, ...). Results
 * are never all zero. Stateless; the caller owns the generator.
 */
public final class RandomData {
    private RandomData() {
    }

    /** Value ranges for test inputs. */
    public enum Domain {
        /** Uniform on [-2, 2). */
        ANY,
        /** Uniform on [-1000, 1000): fractional values for casts. */
        WIDE,
        /** Uniform on [-8, 8): ordinary logits. */
        LOGITS,
        /** Uniform on [-1000, 1000): logits whose exp overflows (even in double) unless the maximum is subtracted. */
        HUGE_LOGITS,
        /** Uniform on [0.05, 4). */
        POSITIVE,
        /** ±[0.25, 3): safe divisors. */
        NONZERO,
        /** Multiples of 0.5 in [-3, 3]: exact ties and exact zeros. */
        HALVES,
        /** {@link #HALVES} with about 15% NaN. */
        HALVES_NAN,
        /**
         * Conditions: 0 with probability 0.4, -0.0 (false) 0.1, NaN (true) 0.05, otherwise a nonzero
         * multiple of 0.5. Stored in INT64, -0.0 and NaN become 0.
         */
        SPARSE,
        /** Integers in [-9, 9]. */
        SMALL_INT,
        /** Integers up to ±2^40 (exact in double, not in float), mixed with small ones. */
        BIG_INT,
        /** Uniform on [0, 1). */
        UNIT
    }

    /** {@code n} values from {@code domain}; never all zero (for n > 0). */
    public static double[] doubles(SplittableRandom rnd, Domain domain, int n) {
        double[] d = new double[n];
        boolean nonzero = false;
        for (int i = 0; i < n; i++) {
            d[i] = draw(rnd, domain);
            nonzero |= d[i] != 0;
        }
        if (n > 0 && !nonzero) {
            d[0] = 0.5;
        }
        return d;
    }

    /** {@code n} values uniform on [lo, hi); never all zero. */
    public static double[] uniform(SplittableRandom rnd, int n, double lo, double hi) {
        double[] d = new double[n];
        boolean nonzero = false;
        for (int i = 0; i < n; i++) {
            d[i] = lo + (hi - lo) * rnd.nextDouble();
            nonzero |= d[i] != 0;
        }
        if (n > 0 && !nonzero) {
            d[0] = hi > 0 ? hi / 2 : lo / 2;
        }
        return d;
    }

    /** {@code n} class labels in [0, classes). */
    public static long[] labels(SplittableRandom rnd, int n, long classes) {
        long[] l = new long[n];
        for (int i = 0; i < n; i++) {
            l[i] = rnd.nextLong(classes);
        }
        return l;
    }

    private static double draw(SplittableRandom rnd, Domain domain) {
        return switch (domain) {
            case ANY -> rnd.nextDouble(-2, 2);
            case WIDE -> rnd.nextDouble(-1000, 1000);
            case LOGITS -> rnd.nextDouble(-8, 8);
            case HUGE_LOGITS -> rnd.nextDouble(-1000, 1000);
            case POSITIVE -> rnd.nextDouble(0.05, 4);
            case NONZERO -> (rnd.nextBoolean() ? 1 : -1) * rnd.nextDouble(0.25, 3);
            case HALVES -> rnd.nextInt(-6, 7) * 0.5;
            case HALVES_NAN -> rnd.nextInt(100) < 15 ? Double.NaN : rnd.nextInt(-6, 7) * 0.5;
            case SPARSE -> {
                int k = rnd.nextInt(100);
                yield k < 40 ? 0.0 : k < 50 ? -0.0 : k < 55 ? Double.NaN : (rnd.nextBoolean() ? 1 : -1) * rnd.nextInt(1, 7) * 0.5;
            }
            case SMALL_INT -> rnd.nextInt(-9, 10);
            case BIG_INT -> rnd.nextBoolean() ? rnd.nextInt(-9, 10) : (double) rnd.nextLong(-(1L << 40), 1L << 40);
            case UNIT -> rnd.nextDouble();
        };
    }
}
