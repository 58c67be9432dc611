package dev.sinew.bench.suite;

import dev.sinew.Sinew;
import dev.sinew.spi.BackendOptions;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs the suite: for each workload, each requested backend in turn and then the PyTorch peer (so
 * Sinew's and PyTorch's runs of a workload are interleaved and see the same machine state).
 *
 * <p>Timing policy, the same in the peer script: up to {@code warmup} untimed steps, stopping early
 * once warm-up has taken half the case budget; then up to {@code repeat} timed steps, stopping early
 * once the timed steps have taken the case budget and at least three have run. Each case gets a
 * fresh backend, so its {@code peakBytes} is the case's own; the heap peak comes from the JVM's heap
 * pools, reset before the case. Progress goes to {@code progress}, one line per case. Not thread-safe.
 *
 * @param backends  backend names in order; {@code cuda} without a provider is reported unavailable
 * @param repeat    timed steps per case, or 0 for each workload's default
 * @param warmup    warm-up steps per case, or -1 for each workload's default
 * @param budgetS   seconds of timed steps per case before stopping early
 * @param explicitReference whether the reference backend was asked for by name (then heavy work runs on it too)
 */
public record SuiteRunner(List<String> backends, int threads, int repeat, int warmup, double budgetS,
        boolean explicitReference, double fmaPeakGflops, PytorchPeer peer, PrintStream progress) {

    /** Runs every workload and returns its rows: backends in order, then the peer's. */
    public List<CaseResult> run(List<Workload> workloads) {
        List<CaseResult> rows = new ArrayList<>();
        List<Sinew.ProviderStatus> providers = Sinew.providers();
        int total = workloads.size() * (backends.size() + (peer == null ? 0 : 1));
        int done = 0;
        long start = System.nanoTime();
        for (Workload w : workloads) {
            List<CaseResult> mine = new ArrayList<>();
            for (String b : backends) {
                progress(++done, total, w, b, start);
                mine.add(runOne(w, b, providers));
            }
            CaseResult p = null;
            if (peer != null) {
                progress(++done, total, w, "pytorch", start);
                p = peer.run(w, threads, warmupFor(w), repeatFor(w), budgetS);
            }
            for (CaseResult r : mine) {
                rows.add(r.withPeer(p));
            }
            if (p != null) {
                rows.add(p);
            }
        }
        progress.printf(Locale.ROOT, "bench: %d cases in %.0f s%n", total, (System.nanoTime() - start) / 1e9);
        progress.flush();
        return rows;
    }

    private void progress(int i, int total, Workload w, String backend, long start) {
        progress.printf(Locale.ROOT, "bench [%d/%d, %d left, %.0f s] %s on %s%n", i, total, total - i,
                (System.nanoTime() - start) / 1e9, w.name(), backend);
        progress.flush();
    }

    int warmupFor(Workload w) {
        return warmup >= 0 ? warmup : w.defaultWarmup();
    }

    int repeatFor(Workload w) {
        return repeat > 0 ? repeat : w.defaultRepeat();
    }

    private CaseResult runOne(Workload w, String backend, List<Sinew.ProviderStatus> providers) {
        Sinew.ProviderStatus ps = providers.stream().filter(p -> p.name().equals(backend)).findFirst().orElse(null);
        if (ps == null) {
            return CaseResult.without(w, backend, "unavailable", "cuda".equals(backend)
                    ? "no cuda provider yet (the CUDA backend issue adds it)" : "no provider named '" + backend + "'");
        }
        if (!ps.availability().available()) {
            return CaseResult.without(w, backend, "unavailable", ps.availability().reason());
        }
        if ("reference".equals(backend) && w.heavy() && !explicitReference) {
            return CaseResult.without(w, backend, "skipped",
                    "too slow on the reference backend for a default run (ask --backend reference)");
        }
        try (Sinew sn = Sinew.use(backend, BackendOptions.defaults().withThreads(threads))) {
            List<MemoryPoolMXBean> heap = ManagementFactory.getMemoryPoolMXBeans().stream()
                    .filter(p -> p.getType() == MemoryType.HEAP).toList();
            heap.forEach(MemoryPoolMXBean::resetPeakUsage);
            double[] ms;
            int warmed = 0;
            try (Workload.Step step = w.factory().prepare(sn)) {
                long warmEnd = System.nanoTime() + (long) (budgetS / 2 * 1e9);
                for (int i = 0; i < warmupFor(w) && (i == 0 || System.nanoTime() < warmEnd); i++) {
                    step.run();
                    warmed++;
                }
                int n = repeatFor(w);
                double[] buf = new double[n];
                int k = 0;
                long timedNs = 0;
                while (k < n && (k < 3 || timedNs < budgetS * 1e9)) {
                    long t0 = System.nanoTime();
                    step.run();
                    long dt = System.nanoTime() - t0;
                    timedNs += dt;
                    buf[k++] = dt / 1e6;
                }
                ms = java.util.Arrays.copyOf(buf, k);
            }
            long heapPeak = heap.stream().mapToLong(p -> p.getPeakUsage() == null ? 0 : p.getPeakUsage().getUsed()).sum();
            return CaseResult.measured(w, backend, Stats.of(ms), warmed, fmaPeakGflops, heapPeak, sn.backend().peakBytes());
        } catch (UnsupportedOperationException e) {
            return CaseResult.without(w, backend, "unavailable", "not supported: " + e.getMessage());
        } catch (RuntimeException e) {
            return CaseResult.without(w, backend, "error", e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
