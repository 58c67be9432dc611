package dev.sinew.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.bench.suite.Baseline;
import dev.sinew.bench.suite.CaseResult;
import dev.sinew.bench.suite.Machine;
import dev.sinew.bench.suite.Stats;
import dev.sinew.bench.suite.SuiteReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sinew bench}: option errors, the JSON round trip, baseline logic, a tiny run and its chart. */
class BenchCommandTest {
    @TempDir
    Path tmp;

    @Test
    void optionErrorsAreOneLineAndExit2() {
        for (String[] args : List.of(new String[] {"bench", "--backend", "tpu"},
                new String[] {"bench", "--workloads", "nope"}, new String[] {"bench", "--repeat", "-1"},
                new String[] {"bench", "--peer", "jax"}, new String[] {"bench", "--chart", "x.svg"},
                new String[] {"bench", "--threads", "x"}, new String[] {"bench", "--baseline", "/no/such/file.json"})) {
            MainTest.Result r = MainTest.run(args);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
            assertEquals(1, r.errLines().size(), r.err());
            assertTrue(r.errLines().get(0).startsWith("sinew: bench: "), r.err());
        }
    }

    static SuiteReport report(double median, double p10, double p90) {
        Machine m = new Machine("Test CPU", 2, 512, "25", "linux", "none", 500.0, 2, Map.of("sinew", "dev"));
        CaseResult ok = new CaseResult("gemm-512", "gemm", "cpu", "ok", "", new Stats(median, p10, p90, 10), 3, 1000 / median,
                "products/s", 0.268 / median * 1e3, 10.0, 1 << 20, 3 << 20, 1.25);
        CaseResult un = new CaseResult("gemm-512", "gemm", "cuda", "unavailable", "no cuda provider yet", null, 0,
                Double.NaN, "products/s", Double.NaN, Double.NaN, -1, -1, Double.NaN);
        return new SuiteReport("2026-01-01T00:00:00Z", m, Map.of("threads", "2"), List.of(ok, un));
    }

    @Test
    void jsonRoundTrip() throws Exception {
        SuiteReport r = report(2.0, 1.9, 2.2);
        Path f = tmp.resolve("r.json");
        r.write(f);
        SuiteReport back = SuiteReport.read(f);
        assertEquals(r, back);
        assertEquals(r.toJson(), back.toJson());
    }

    @Test
    void baselineFlagsOnlyRegressionsBeyondNoise() {
        SuiteReport base = report(2.0, 1.9, 2.2);
        assertTrue(Baseline.compare(base, base).stream().noneMatch(Baseline.Comparison::regression));
        // slower, but within the noise (spread 15%)
        assertTrue(Baseline.compare(base, report(2.1, 1.95, 2.25)).stream().noneMatch(Baseline.Comparison::regression));
        // 50% slower, ranges apart: flagged
        List<Baseline.Comparison> c = Baseline.compare(base, report(3.0, 2.9, 3.2));
        assertTrue(c.get(0).regression());
        assertEquals(2.0 / 3.0, c.get(0).ratio(), 1e-12);
        assertFalse(c.get(1).regression()); // unavailable on both sides
        // faster is never a regression
        assertTrue(Baseline.compare(base, report(1.0, 0.9, 1.1)).stream().noneMatch(Baseline.Comparison::regression));
    }

    @Test
    void tinyRunOnReferenceWritesJsonChartAndComparesWithItself() throws Exception {
        Path json = tmp.resolve("out.json");
        Path png = tmp.resolve("chart.png");
        MainTest.Result r = MainTest.run("bench", "--backend", "reference", "--workloads", "mlp", "--repeat", "1",
                "--warmup", "0", "--threads", "1", "--json", json.toString(), "--chart", png.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("mlp"), r.out());
        assertTrue(r.err().contains("[1/1, 0 left"), r.err());
        SuiteReport rep = SuiteReport.read(json);
        assertEquals(1, rep.results().size());
        CaseResult row = rep.results().get(0);
        assertEquals("ok", row.status(), row.reason());
        assertEquals(1, row.stats().samples());
        assertTrue(row.stats().medianMs() > 0);
        assertTrue(Files.size(png) > 1000);
        // the same report as its own baseline flags nothing
        assertTrue(Baseline.compare(rep, rep).stream().noneMatch(Baseline.Comparison::regression));
    }
}
