package dev.sinew.bench.suite;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Compares a run with a saved one, row by row (same workload and backend). The ratio is baseline
 * median ÷ new median, so above 1 is faster now. A row is a <em>regression</em> when it is slower by
 * more than the noise of either run — its relative p10–p90 spread, whichever is larger — and the two
 * runs' p10–p90 ranges do not overlap; an identical re-run therefore flags nothing. Stateless.
 */
public final class Baseline {
    /** One compared row; {@code ratio} NaN when either side has no figure. */
    public record Comparison(String key, double baseMedianMs, double newMedianMs, double ratio, double noise,
            boolean regression) {
    }

    private Baseline() {
    }

    /** Every row of {@code now} that has a counterpart in {@code base}, in {@code now}'s order. */
    public static List<Comparison> compare(SuiteReport base, SuiteReport now) {
        Map<String, CaseResult> old = new HashMap<>();
        for (CaseResult r : base.results()) {
            old.put(r.key(), r);
        }
        List<Comparison> out = new ArrayList<>();
        for (CaseResult r : now.results()) {
            CaseResult b = old.get(r.key());
            if (b == null) {
                continue;
            }
            out.add(compare(r.key(), b.ok() ? b.stats() : null, r.ok() ? r.stats() : null));
        }
        return out;
    }

    /** Compares one figure. */
    public static Comparison compare(String key, Stats base, Stats now) {
        if (base == null || now == null) {
            return new Comparison(key, base == null ? Double.NaN : base.medianMs(), now == null ? Double.NaN : now.medianMs(),
                    Double.NaN, Double.NaN, false);
        }
        double ratio = base.medianMs() / now.medianMs();
        double noise = Math.max(base.relativeSpread(), now.relativeSpread());
        double slower = now.medianMs() / base.medianMs() - 1;
        boolean regression = slower > noise && now.p10Ms() > base.p90Ms();
        return new Comparison(key, base.medianMs(), now.medianMs(), ratio, noise, regression);
    }
}
