package dev.sinew.bench.suite;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs workloads through the committed PyTorch script {@code bench/peers/pytorch_bench.py}, one
 * process per case, at PyTorch's best (shared/design.md, "Performance method"):
 * {@code LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp} when that folder exists, and
 * {@code OPENBLAS_CORETYPE} / {@code OPENBLAS_L2_SIZE} removed from its environment. The script
 * applies the same warm-up and repeat policy and the same thread count, and prints one JSON line
 * with its per-step times. Immutable; {@link #check()} first.
 */
public final class PytorchPeer {
    static final String OPENBLAS_OPENMP = "/usr/lib/x86_64-linux-gnu/openblas-openmp";
    static final String INSTALL_HINT = "install them with: apt-get install -y python3 python3-torch libopenblas0-openmp";

    private final String python;
    private final Path script;

    /** A peer running {@code script} with {@code python}. */
    public PytorchPeer(String python, Path script) {
        this.python = python;
        this.script = script;
    }

    /** The default: {@code /usr/bin/python3} (else {@code python3} on the PATH) and the script under {@code home}. */
    public static PytorchPeer locate(Path home) {
        String py = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
        return new PytorchPeer(py, home.resolve("bench/peers/pytorch_bench.py"));
    }

    /** PyTorch's version, or an {@link IllegalStateException} saying what is missing and how to install it. */
    public String check() {
        if (!Files.isRegularFile(script)) {
            throw new IllegalStateException("the PyTorch peer script " + script + " is missing");
        }
        Proc p;
        try {
            p = exec(List.of(python, "-c", "import torch; print(torch.__version__)"), 120);
        } catch (IOException e) {
            throw new IllegalStateException("Python (" + python + ") could not be run: " + e.getMessage() + "; "
                    + INSTALL_HINT);
        }
        if (p.code != 0) {
            throw new IllegalStateException("PyTorch is not importable by " + python + "; " + INSTALL_HINT);
        }
        return p.out.strip();
    }

    /** Runs one case; a failure becomes an {@code error} row. */
    public CaseResult run(Workload w, int threads, int warmup, int repeat, double budgetS) {
        List<String> cmd = List.of(python, script.toString(), "--case", w.name(), "--threads", Integer.toString(threads),
                "--warmup", Integer.toString(warmup), "--repeat", Integer.toString(repeat), "--budget",
                Double.toString(budgetS));
        try {
            Proc p = exec(cmd, 600);
            String last = p.out.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElse("");
            if (p.code != 0 || last.isEmpty()) {
                String why = p.err.lines().filter(l -> !l.isBlank()).reduce((a, b) -> b).orElse("exit code " + p.code);
                return CaseResult.without(w, "pytorch", "error", why);
            }
            JsonObject o = JsonParser.parseString(last).getAsJsonObject();
            String status = o.get("status").getAsString();
            if (!"ok".equals(status)) {
                return CaseResult.without(w, "pytorch", status, o.has("reason") ? o.get("reason").getAsString() : "");
            }
            JsonArray a = o.getAsJsonArray("samples_ms");
            double[] ms = new double[a.size()];
            for (int i = 0; i < ms.length; i++) {
                ms[i] = a.get(i).getAsDouble();
            }
            long rss = o.has("peak_rss_bytes") ? o.get("peak_rss_bytes").getAsLong() : -1;
            return CaseResult.measured(w, "pytorch", Stats.of(ms), o.get("warmup").getAsInt(), Double.NaN, -1, rss);
        } catch (IOException | RuntimeException e) {
            return CaseResult.without(w, "pytorch", "error", e.getMessage());
        }
    }

    private record Proc(int code, String out, String err) {
    }

    private static Proc exec(List<String> cmd, int timeoutS) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(cmd));
        Map<String, String> env = pb.environment();
        env.remove("OPENBLAS_CORETYPE");
        env.remove("OPENBLAS_L2_SIZE");
        if (Files.isDirectory(Path.of(OPENBLAS_OPENMP))) {
            String old = env.get("LD_LIBRARY_PATH");
            env.put("LD_LIBRARY_PATH", OPENBLAS_OPENMP + (old == null || old.isEmpty() ? "" : ":" + old));
        }
        Process p = pb.start();
        // drain stderr on another thread so a chatty child cannot block
        StringBuilder err = new StringBuilder();
        Thread drain = Thread.ofVirtual().start(() -> {
            try {
                err.append(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                err.append(e.getMessage());
            }
        });
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("timed out after " + timeoutS + " s");
            }
            drain.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted");
        }
        synchronized (err) {
            return new Proc(p.exitValue(), out, err.toString());
        }
    }
}
