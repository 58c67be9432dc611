package dev.sinew.bench.suite;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Draws a report as a grouped bar chart (XChart): one group per workload, one bar per backend (and
 * the PyTorch peer), the median time per step on a logarithmic axis (shorter is faster). Stateless.
 */
public final class Chart {
    private Chart() {
    }

    /** Writes the chart of every {@code ok} row as a PNG. */
    public static void write(SuiteReport report, Path png) throws IOException {
        Set<String> workloads = new LinkedHashSet<>();
        Set<String> backends = new LinkedHashSet<>();
        for (CaseResult r : report.results()) {
            if (r.ok()) {
                workloads.add(r.workload());
                backends.add(r.backend());
            }
        }
        if (workloads.isEmpty()) {
            throw new IllegalStateException("nothing to chart: no workload ran");
        }
        CategoryChart chart = new CategoryChartBuilder()
                .width(Math.max(900, Math.min(1800, 30 * workloads.size() * backends.size() + 200))).height(700)
                .title("sinew bench — median time per step (log scale, lower is faster), " + report.machine().threads()
                        + " threads, " + report.machine().cpuModel())
                .xAxisTitle("workload").yAxisTitle("ms per step").build();
        Styler st = chart.getStyler();
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setXAxisLabelRotation(45);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setChartTitleFont(st.getChartTitleFont().deriveFont(14f));
        chart.getStyler().setOverlapped(false);
        // bars start at zero unless told otherwise, which a log axis cannot show: bound it by decades
        double lo = report.results().stream().filter(CaseResult::ok).mapToDouble(r -> r.stats().medianMs()).min().orElse(1);
        double hi = report.results().stream().filter(CaseResult::ok).mapToDouble(r -> r.stats().medianMs()).max().orElse(1);
        chart.getStyler().setYAxisMin(Math.pow(10, Math.floor(Math.log10(lo))));
        chart.getStyler().setYAxisMax(Math.pow(10, Math.ceil(Math.log10(hi * 1.01))));
        List<String> xs = new ArrayList<>(workloads);
        for (String b : backends) {
            List<Double> ys = new ArrayList<>();
            for (String w : xs) {
                ys.add(report.results().stream().filter(r -> r.ok() && r.backend().equals(b) && r.workload().equals(w))
                        .map(r -> r.stats().medianMs()).findFirst().orElse(null));
            }
            chart.addSeries(b, xs, ys);
        }
        Path parent = png.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
