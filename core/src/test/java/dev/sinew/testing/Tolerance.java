package dev.sinew.testing;

import static org.junit.jupiter.api.Assertions.fail;

import dev.sinew.DType;
import java.util.Arrays;

/**
 * An elementwise tolerance: {@code actual} matches {@code expected} when
 * {@code |actual − expected| ≤ atol + rtol·|expected|}. NaN matches only NaN and an infinity only
 * the same infinity. On failure the assertion prints how many elements differ, the largest
 * difference and the first few mismatches (index, expected, actual).
 *
 * <p>Defaults ({@link #of}): FLOAT32 {@code 1e-5 + 1e-4·|ref|}, FLOAT64 {@code 1e-12 + 1e-11·|ref|},
 * INT64 exact. Sums of many terms (reductions, matmul) widen the absolute part with
 * {@link #forTerms}. Immutable.
 */
public record Tolerance(double atol, double rtol) {
    /** Bit-for-bit agreement (NaN with NaN; -0.0 equals 0.0). */
    public static final Tolerance EXACT = new Tolerance(0, 0);

    /** How many mismatches a failure message lists. */
    private static final int SHOWN = 8;

    public Tolerance {
        if (!(atol >= 0) || !(rtol >= 0)) {
            throw new IllegalArgumentException("tolerance: atol and rtol must be >= 0, got " + atol + ", " + rtol);
        }
    }

    /** The default tolerance for results stored in {@code dtype}. */
    public static Tolerance of(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> new Tolerance(1e-5, 1e-4);
            case FLOAT64 -> new Tolerance(1e-12, 1e-11);
            case INT64 -> EXACT;
        };
    }

    /**
     * This tolerance for a sum of {@code terms} values of order 1 (a reduction, a dot product):
     * rounding errors grow like the square root of the number of terms, so atol is scaled by
     * {@code 4·sqrt(terms)}.
     */
    public Tolerance forTerms(long terms) {
        return new Tolerance(atol * 4 * Math.sqrt(Math.max(1, terms)), rtol);
    }

    /** Asserts {@code actual} matches {@code expected} elementwise under this tolerance. */
    public void assertClose(String what, double[] expected, double[] actual) {
        assertClose(what, expected, actual, atol, rtol);
    }

    /** Whether one element matches. */
    public static boolean close(double expected, double actual, double atol, double rtol) {
        if (Double.isNaN(expected) || Double.isNaN(actual)) {
            return Double.isNaN(expected) && Double.isNaN(actual);
        }
        if (Double.isInfinite(expected) || Double.isInfinite(actual)) {
            return expected == actual;
        }
        return Math.abs(actual - expected) <= atol + rtol * Math.abs(expected);
    }

    /**
     * Asserts {@code actual[i]} is within {@code atol + rtol·|expected[i]|} of {@code expected[i]} for
     * every {@code i}; fails with the count, the largest difference and the first mismatches.
     */
    public static void assertClose(String what, double[] expected, double[] actual, double atol, double rtol) {
        if (expected.length != actual.length) {
            fail(what + ": expected " + expected.length + " elements, got " + actual.length);
        }
        int bad = 0;
        double worst = 0;
        int worstAt = -1;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < expected.length; i++) {
            if (!close(expected[i], actual[i], atol, rtol)) {
                if (bad < SHOWN) {
                    first.append(String.format("%n  [%d] expected %.17g, actual %.17g, |diff| %.3g", i, expected[i],
                            actual[i], Math.abs(actual[i] - expected[i])));
                }
                bad++;
                double diff = Math.abs(actual[i] - expected[i]);
                if (!(diff <= worst)) {
                    worst = diff;
                    worstAt = i;
                }
            }
        }
        if (bad > 0) {
            fail(String.format("%s: %d of %d elements differ (atol %.3g, rtol %.3g); largest |diff| %.3g at [%d]; first:%s",
                    what, bad, expected.length, atol, rtol, worst, worstAt, first));
        }
    }

    /** Asserts two long arrays are equal, listing the first mismatches. */
    public static void assertExact(String what, long[] expected, long[] actual) {
        if (expected.length != actual.length) {
            fail(what + ": expected " + expected.length + " elements, got " + actual.length);
        }
        if (Arrays.equals(expected, actual)) {
            return;
        }
        int bad = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] != actual[i]) {
                if (bad < SHOWN) {
                    first.append(String.format("%n  [%d] expected %d, actual %d", i, expected[i], actual[i]));
                }
                bad++;
            }
        }
        fail(String.format("%s: %d of %d elements differ; first:%s", what, bad, expected.length, first));
    }
}
