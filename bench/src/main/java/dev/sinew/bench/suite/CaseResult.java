package dev.sinew.bench.suite;

/**
 * One row of the suite: a workload on one backend (or on the PyTorch peer, backend
 * {@code "pytorch"}). {@code status} is {@code ok}, {@code unavailable} (the backend or the layer does
 * not exist), {@code skipped} (left out of this run, e.g. heavy work on the reference backend) or
 * {@code error}; only {@code ok} rows carry figures ({@code stats} null otherwise, NaN for absent
 * numbers, -1 for absent byte counts). Immutable.
 *
 * @param throughput   items per second at the median ({@code throughputUnit}, e.g. {@code samples/s})
 * @param gflops       GFLOP/s at the median, NaN where no flop count applies
 * @param peakPercent  {@code gflops} as a percentage of the machine's FMA peak, NaN likewise
 * @param heapPeakBytes    the JVM heap's peak during the case (-1 for the peer)
 * @param backendPeakBytes the backend's peak live storage, or the peer's peak resident set size
 * @param vsPytorch    PyTorch's median ÷ this median (Sinew ÷ PyTorch in speed, higher is better), NaN if none
 */
public record CaseResult(String workload, String group, String backend, String status, String reason, Stats stats,
        int warmup, double throughput, String throughputUnit, double gflops, double peakPercent, long heapPeakBytes,
        long backendPeakBytes, double vsPytorch) {

    /** A row without figures. */
    public static CaseResult without(Workload w, String backend, String status, String reason) {
        return new CaseResult(w.name(), w.group(), backend, status, reason, null, 0, Double.NaN,
                w.itemUnit() + "/s", Double.NaN, Double.NaN, -1, -1, Double.NaN);
    }

    /** A measured row. */
    public static CaseResult measured(Workload w, String backend, Stats s, int warmup, double fmaPeakGflops,
            long heapPeak, long backendPeak) {
        double gf = w.hasFlops() ? w.gflopPerStep() / (s.medianMs() / 1e3) : Double.NaN;
        double pct = w.hasFlops() && fmaPeakGflops > 0 ? 100 * gf / fmaPeakGflops : Double.NaN;
        return new CaseResult(w.name(), w.group(), backend, "ok", "", s, warmup,
                w.itemsPerStep() / (s.medianMs() / 1e3), w.itemUnit() + "/s", gf, pct, heapPeak, backendPeak, Double.NaN);
    }

    public boolean ok() {
        return "ok".equals(status) && stats != null;
    }

    /** This row with its ratio to the peer's row of the same workload. */
    public CaseResult withPeer(CaseResult peer) {
        double r = ok() && peer != null && peer.ok() ? peer.stats().medianMs() / stats.medianMs() : Double.NaN;
        return new CaseResult(workload, group, backend, status, reason, stats, warmup, throughput, throughputUnit, gflops,
                peakPercent, heapPeakBytes, backendPeakBytes, r);
    }

    /** The key a baseline matches rows by. */
    public String key() {
        return workload + "@" + backend;
    }
}
