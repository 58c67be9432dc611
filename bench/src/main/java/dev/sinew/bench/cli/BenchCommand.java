package dev.sinew.bench.cli;

import dev.sinew.bench.Main;
import dev.sinew.bench.suite.Baseline;
import dev.sinew.bench.suite.CaseResult;
import dev.sinew.bench.suite.Chart;
import dev.sinew.bench.suite.FmaProbe;
import dev.sinew.bench.suite.Machine;
import dev.sinew.bench.suite.PytorchPeer;
import dev.sinew.bench.suite.Stats;
import dev.sinew.bench.suite.SuiteReport;
import dev.sinew.bench.suite.SuiteRunner;
import dev.sinew.bench.suite.Workload;
import dev.sinew.bench.suite.Workloads;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code sinew bench}: the standard workloads on every backend (and optionally PyTorch), as a
 * terminal table, a JSON report, a comparison with a saved report and a bar chart. Progress goes to
 * standard error; the table to standard output. One instance per invocation; not thread-safe.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time the standard workloads on each backend, optionally side by side with PyTorch.")
public final class BenchCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Spec
    CommandSpec spec;

    @Option(names = "--backend", paramLabel = "all|cpu|cuda|reference", defaultValue = "all",
            description = "Backend(s) to run (default: all).")
    String backend;

    @Option(names = "--workloads", paramLabel = "LIST", split = ",",
            description = "Comma-separated workload groups: gemm, conv, rnn, softmax-ce, adam, mlp, lenet, charlstm (default: all).")
    List<String> workloads = new ArrayList<>();

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "0",
            description = "Timed steps per case (default 0: each workload's own, sized for a run under 10 minutes).")
    int repeat;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "-1",
            description = "Warm-up steps per case (default: each workload's own).")
    int warmup;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "Threads for Sinew and PyTorch (default 0: one per processor).")
    int threads;

    @Option(names = "--budget", paramLabel = "SECONDS", defaultValue = "5",
            description = "Timed seconds per case after which it stops early, with at least 3 steps (default 5).")
    double budget;

    @Option(names = "--json", paramLabel = "FILE", description = "Write every figure and the machine as JSON (schema in the README).")
    Path json;

    @Option(names = "--baseline", paramLabel = "FILE", description = "Compare with a saved --json report and flag regressions.")
    Path baseline;

    @Option(names = "--peer", paramLabel = "pytorch", description = "Also run the workloads with PyTorch (CPU) and add ratio columns.")
    String peer;

    @Option(names = "--chart", paramLabel = "FILE.png", description = "Draw a grouped bar chart of the medians.")
    Path chart;

    @Override
    public Integer call() throws IOException {
        PrintStream out = main.out();
        PrintStream err = main.err();
        List<String> backends = switch (backend.trim().toLowerCase(Locale.ROOT)) {
            case "all" -> List.of("cpu", "cuda", "reference");
            case "cpu", "cuda", "reference" -> List.of(backend.trim().toLowerCase(Locale.ROOT));
            default -> throw new ParameterException(spec.commandLine(),
                    "unknown backend '" + backend + "' (use all, cpu, cuda or reference)");
        };
        if (repeat < 0) {
            throw new ParameterException(spec.commandLine(), "--repeat must be >= 1 (or 0 for the defaults), got " + repeat);
        }
        if (warmup < -1) {
            throw new ParameterException(spec.commandLine(), "--warmup must be >= 0, got " + warmup);
        }
        if (threads < 0) {
            throw new ParameterException(spec.commandLine(), "--threads must be >= 1 (or 0 for all), got " + threads);
        }
        if (!(budget > 0)) {
            throw new ParameterException(spec.commandLine(), "--budget must be > 0 seconds, got " + budget);
        }
        if (peer != null && !peer.equalsIgnoreCase("pytorch")) {
            throw new ParameterException(spec.commandLine(), "unknown peer '" + peer + "' (only pytorch)");
        }
        if (chart != null && !chart.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png")) {
            throw new ParameterException(spec.commandLine(), "--chart must name a .png file, got " + chart);
        }
        List<Workload> selected;
        try {
            selected = Workloads.select(workloads);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        SuiteReport base = null;
        if (baseline != null) {
            if (!Files.isRegularFile(baseline)) {
                throw new ParameterException(spec.commandLine(), "--baseline " + baseline + ": no such file");
            }
            base = SuiteReport.read(baseline);
        }
        int nThreads = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();

        Map<String, String> versions = new LinkedHashMap<>();
        String v = Main.class.getPackage().getImplementationVersion();
        versions.put("sinew", v == null ? "development build" : v);
        PytorchPeer py = null;
        if (peer != null) {
            PytorchPeer candidate = PytorchPeer.locate(Path.of(System.getProperty("sinew.home", ".")));
            try {
                versions.put("torch", candidate.check());
                py = candidate;
            } catch (IllegalStateException e) {
                err.println("sinew: bench: " + e.getMessage() + "; running without the PyTorch peer");
            }
        }
        err.println("bench: measuring the FMA peak on " + nThreads + " thread(s) ...");
        double peak = FmaProbe.measure(nThreads, 20); // best of 20 short rounds: another process may hold a core
        err.printf(Locale.ROOT, "bench: FMA peak %.0f GFLOP/s (%d-bit vectors); %d workloads × %d backends%s%n", peak,
                FmaProbe.vectorBits(), selected.size(), backends.size(), py == null ? "" : " + PyTorch");

        SuiteRunner runner = new SuiteRunner(backends, nThreads, repeat, warmup, budget,
                backend.trim().equalsIgnoreCase("reference"), peak, py, err);
        List<CaseResult> rows = runner.run(selected);

        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("backend", backend);
        settings.put("workloads", workloads.isEmpty() ? "all" : String.join(",", workloads));
        settings.put("repeat", repeat == 0 ? "default" : Integer.toString(repeat));
        settings.put("warmup", warmup < 0 ? "default" : Integer.toString(warmup));
        settings.put("threads", Integer.toString(nThreads));
        settings.put("budget_s", Double.toString(budget));
        settings.put("peer", py == null ? "none" : "pytorch");
        Machine machine = new Machine(Machine.thisCpuModel(), Runtime.getRuntime().availableProcessors(),
                FmaProbe.vectorBits(), Machine.thisJdk(), Machine.thisOs(), "none", peak, nThreads, versions);
        SuiteReport report = new SuiteReport(Instant.now().toString(), machine, settings, rows);

        printTable(out, report, py != null);
        if (base != null) {
            printBaseline(out, base, report);
        }
        if (json != null) {
            report.write(json);
            err.println("bench: wrote " + json);
        }
        if (chart != null) {
            Chart.write(report, chart);
            err.println("bench: wrote " + chart);
        }
        out.flush();
        return 0;
    }

    /** The side-by-side table. */
    static void printTable(PrintStream out, SuiteReport report, boolean withPeer) {
        Machine m = report.machine();
        out.printf(Locale.ROOT, "machine: %s, %d cores, %d-bit vectors, JDK %s, %d threads, FMA peak %.0f GFLOP/s%n",
                m.cpuModel(), m.cores(), m.vectorBits(), m.jdk(), m.threads(), m.fmaPeakGflops());
        String head = String.format(Locale.ROOT, "%-14s %-9s %10s %21s %22s %7s %9s", "workload", "backend", "median ms",
                "p10–p90 ms", "throughput", "% peak", "peak MiB");
        if (withPeer) {
            head += String.format(Locale.ROOT, " %10s %7s", "torch ms", "×torch");
        }
        out.println(head);
        out.println("-".repeat(head.length()));
        Map<String, CaseResult> torch = new LinkedHashMap<>();
        report.results().stream().filter(r -> r.backend().equals("pytorch")).forEach(r -> torch.put(r.workload(), r));
        for (CaseResult r : report.results()) {
            if (r.backend().equals("pytorch")) {
                continue;
            }
            if (!r.ok()) {
                out.printf(Locale.ROOT, "%-14s %-9s %s: %s%n", r.workload(), r.backend(), r.status(), r.reason());
                continue;
            }
            Stats s = r.stats();
            String thr = r.gflops() == r.gflops() ? String.format(Locale.ROOT, "%.1f GFLOP/s", r.gflops())
                    : compact(r.throughput()) + " " + r.throughputUnit();
            String pct = r.peakPercent() == r.peakPercent() ? String.format(Locale.ROOT, "%.0f%%", r.peakPercent()) : "";
            long mem = Math.max(0, r.heapPeakBytes()) + Math.max(0, r.backendPeakBytes());
            String line = String.format(Locale.ROOT, "%-14s %-9s %10s %21s %22s %7s %9.0f", r.workload(), r.backend(),
                    ms(s.medianMs()), ms(s.p10Ms()) + "–" + ms(s.p90Ms()), thr, pct, mem / 1048576.0);
            if (withPeer) {
                CaseResult t = torch.get(r.workload());
                line += t != null && t.ok()
                        ? String.format(Locale.ROOT, " %10s %6.2f×", ms(t.stats().medianMs()), r.vsPytorch())
                        : " " + (t == null ? "" : "torch " + t.status() + ": " + t.reason());
            }
            out.println(line);
        }
        if (withPeer) {
            out.println("×torch: PyTorch median ÷ Sinew median (Sinew ÷ PyTorch in speed, higher is better)");
            for (CaseResult t : torch.values()) {
                if (t.ok()) {
                    out.printf(Locale.ROOT, "  torch %-14s p10–p90 %s–%s ms, %s %s, peak RSS %.0f MiB%n", t.workload(),
                            ms(t.stats().p10Ms()), ms(t.stats().p90Ms()),
                            t.gflops() == t.gflops() ? String.format(Locale.ROOT, "%.1f", t.gflops()) : compact(t.throughput()),
                            t.gflops() == t.gflops() ? "GFLOP/s" : t.throughputUnit(), t.backendPeakBytes() / 1048576.0);
                }
            }
        }
    }

    /** Each figure's ratio to the baseline, regressions marked. */
    static int printBaseline(PrintStream out, SuiteReport base, SuiteReport now) {
        List<Baseline.Comparison> cs = Baseline.compare(base, now);
        out.println("baseline (ratio = baseline median ÷ this median; above 1 is faster now):");
        int flagged = 0;
        for (Baseline.Comparison c : cs) {
            if (c.baseMedianMs() != c.baseMedianMs() && c.newMedianMs() != c.newMedianMs()) {
                continue; // unavailable or skipped in both runs
            }
            if (c.ratio() != c.ratio()) {
                out.printf(Locale.ROOT, "  %-26s no figure on one side%n", c.key());
                continue;
            }
            out.printf(Locale.ROOT, "  %-26s %10s → %10s ms  %5.2f×  noise ±%.0f%%%s%n", c.key(), ms(c.baseMedianMs()),
                    ms(c.newMedianMs()), c.ratio(), 100 * c.noise(), c.regression() ? "  REGRESSION" : "");
            if (c.regression()) {
                flagged++;
            }
        }
        out.println("  " + flagged + " regression(s) beyond the runs' noise");
        return flagged;
    }

    private static String ms(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%.1f", v)
                : v >= 1 ? String.format(Locale.ROOT, "%.2f", v) : String.format(Locale.ROOT, "%.3f", v);
    }

    private static String compact(double v) {
        if (v >= 1e9) {
            return String.format(Locale.ROOT, "%.2fG", v / 1e9);
        }
        if (v >= 1e6) {
            return String.format(Locale.ROOT, "%.2fM", v / 1e6);
        }
        if (v >= 1e3) {
            return String.format(Locale.ROOT, "%.1fk", v / 1e3);
        }
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
