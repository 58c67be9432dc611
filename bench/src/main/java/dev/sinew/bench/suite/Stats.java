package dev.sinew.bench.suite;

import java.util.Arrays;

/**
 * Summary of a case's timed steps, in milliseconds per step: the median and the 10th and 90th
 * percentiles (nearest rank on the sorted samples, the same rule as the Python peer), and how many
 * samples they come from. Immutable.
 */
public record Stats(double medianMs, double p10Ms, double p90Ms, int samples) {

    /** Summarises the given per-step times (milliseconds); at least one sample. */
    public static Stats of(double[] ms) {
        if (ms.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        double[] s = ms.clone();
        Arrays.sort(s);
        int n = s.length;
        double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        return new Stats(median, s[(int) Math.floor(0.1 * (n - 1))], s[(int) Math.ceil(0.9 * (n - 1))], n);
    }

    /** The p10–p90 spread relative to the median (0 for a single sample). */
    public double relativeSpread() {
        return medianMs > 0 ? (p90Ms - p10Ms) / medianMs : 0;
    }
}
