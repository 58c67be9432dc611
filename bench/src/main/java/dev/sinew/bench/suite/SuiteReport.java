package dev.sinew.bench.suite;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A whole {@code sinew bench} run: the machine, the settings and every row, with its JSON form
 * (schema {@value #SCHEMA}, documented in the README: absent numbers are {@code null}). Immutable.
 *
 * @param settings the run's options as given ({@code backend}, {@code workloads}, {@code repeat},
 *                 {@code warmup}, {@code threads}, {@code peer}, {@code budget_s})
 */
public record SuiteReport(String created, Machine machine, Map<String, String> settings, List<CaseResult> results) {
    /** The {@code schema} value this version writes and reads. */
    public static final String SCHEMA = "sinew-bench/1";

    public SuiteReport {
        settings = Map.copyOf(settings);
        results = List.copyOf(results);
    }

    // ---- writing ------------------------------------------------------------------------------

    /** The report as a JSON object. */
    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("schema", SCHEMA);
        o.addProperty("created", created);
        JsonObject m = new JsonObject();
        m.addProperty("cpu_model", machine.cpuModel());
        m.addProperty("cores", machine.cores());
        m.addProperty("vector_bits", machine.vectorBits());
        m.addProperty("jdk", machine.jdk());
        m.addProperty("os", machine.os());
        m.addProperty("gpu", machine.gpu());
        m.add("fma_peak_gflops", num(machine.fmaPeakGflops()));
        m.addProperty("threads", machine.threads());
        JsonObject v = new JsonObject();
        machine.versions().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> v.addProperty(e.getKey(), e.getValue()));
        m.add("versions", v);
        o.add("machine", m);
        JsonObject s = new JsonObject();
        settings.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> s.addProperty(e.getKey(), e.getValue()));
        o.add("settings", s);
        JsonArray rows = new JsonArray();
        for (CaseResult r : results) {
            JsonObject j = new JsonObject();
            j.addProperty("workload", r.workload());
            j.addProperty("group", r.group());
            j.addProperty("backend", r.backend());
            j.addProperty("status", r.status());
            j.addProperty("reason", r.reason());
            Stats st = r.stats();
            j.add("median_ms", st == null ? JsonNull.INSTANCE : num(st.medianMs()));
            j.add("p10_ms", st == null ? JsonNull.INSTANCE : num(st.p10Ms()));
            j.add("p90_ms", st == null ? JsonNull.INSTANCE : num(st.p90Ms()));
            j.addProperty("samples", st == null ? 0 : st.samples());
            j.addProperty("warmup", r.warmup());
            j.add("throughput", num(r.throughput()));
            j.addProperty("throughput_unit", r.throughputUnit());
            j.add("gflops", num(r.gflops()));
            j.add("peak_percent", num(r.peakPercent()));
            j.add("heap_peak_bytes", r.heapPeakBytes() < 0 ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(r.heapPeakBytes()));
            j.add("backend_peak_bytes",
                    r.backendPeakBytes() < 0 ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(r.backendPeakBytes()));
            j.add("vs_pytorch", num(r.vsPytorch()));
            rows.add(j);
        }
        o.add("results", rows);
        return o;
    }

    /** Writes the report, pretty-printed, to {@code file}. */
    public void write(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(toJson()) + "\n",
                StandardCharsets.UTF_8);
    }

    private static JsonElement num(double d) {
        return Double.isFinite(d) ? new com.google.gson.JsonPrimitive(d) : JsonNull.INSTANCE;
    }

    // ---- reading ------------------------------------------------------------------------------

    /** Reads a report; a missing file, bad JSON or another schema is an {@link IllegalArgumentException}. */
    public static SuiteReport read(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        try {
            return fromJson(JsonParser.parseString(text).getAsJsonObject());
        } catch (JsonParseException | IllegalStateException | NullPointerException | UnsupportedOperationException e) {
            throw new IllegalArgumentException(file + ": not a sinew bench report (" + e.getMessage() + ")", e);
        }
    }

    /** The report held by a JSON object of schema {@value #SCHEMA}. */
    public static SuiteReport fromJson(JsonObject o) {
        String schema = str(o, "schema");
        if (!SCHEMA.equals(schema)) {
            throw new IllegalArgumentException("unsupported schema '" + schema + "' (expected " + SCHEMA + ")");
        }
        JsonObject m = o.getAsJsonObject("machine");
        Map<String, String> versions = new LinkedHashMap<>();
        m.getAsJsonObject("versions").entrySet().forEach(e -> versions.put(e.getKey(), e.getValue().getAsString()));
        Machine machine = new Machine(str(m, "cpu_model"), m.get("cores").getAsInt(), m.get("vector_bits").getAsInt(),
                str(m, "jdk"), str(m, "os"), str(m, "gpu"), dbl(m, "fma_peak_gflops"), m.get("threads").getAsInt(),
                versions);
        Map<String, String> settings = new LinkedHashMap<>();
        o.getAsJsonObject("settings").entrySet().forEach(e -> settings.put(e.getKey(), e.getValue().getAsString()));
        List<CaseResult> rows = new ArrayList<>();
        for (JsonElement e : o.getAsJsonArray("results")) {
            JsonObject j = e.getAsJsonObject();
            Stats st = j.get("median_ms").isJsonNull() ? null
                    : new Stats(dbl(j, "median_ms"), dbl(j, "p10_ms"), dbl(j, "p90_ms"), j.get("samples").getAsInt());
            rows.add(new CaseResult(str(j, "workload"), str(j, "group"), str(j, "backend"), str(j, "status"),
                    str(j, "reason"), st, j.get("warmup").getAsInt(), dbl(j, "throughput"), str(j, "throughput_unit"),
                    dbl(j, "gflops"), dbl(j, "peak_percent"), lng(j, "heap_peak_bytes"), lng(j, "backend_peak_bytes"),
                    dbl(j, "vs_pytorch")));
        }
        return new SuiteReport(str(o, "created"), machine, settings, rows);
    }

    private static String str(JsonObject o, String k) {
        JsonElement e = o.get(k);
        return e == null || e.isJsonNull() ? "" : e.getAsString();
    }

    private static double dbl(JsonObject o, String k) {
        JsonElement e = o.get(k);
        return e == null || e.isJsonNull() ? Double.NaN : e.getAsDouble();
    }

    private static long lng(JsonObject o, String k) {
        JsonElement e = o.get(k);
        return e == null || e.isJsonNull() ? -1 : e.getAsLong();
    }
}
