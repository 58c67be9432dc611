package dev.sinew.bench.cli;

import dev.sinew.DType;
import dev.sinew.Generator;
import dev.sinew.Scope;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.bench.Main;
import dev.sinew.bench.train.Models;
import dev.sinew.bench.train.OptimizerKind;
import dev.sinew.nn.Losses;
import dev.sinew.nn.Module;
import dev.sinew.optim.Optimizer;
import dev.sinew.spi.Backend;
import dev.sinew.spi.BackendOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code sinew soak}: runs many training steps of a model on random data and reports memory as it
 * goes (process RSS, the backend's live buffers and bytes, the pool's peak), so a per-step leak
 * shows as growth between reports. Ends with exit code 1 if the live buffers or bytes at the last
 * report differ from the first report after warm-up.
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
        description = "Run many training steps on random data and report memory (RSS, live buffers) as it goes.")
public final class SoakCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", defaultValue = "mlp", description = "Model (${COMPLETION-CANDIDATES}: mlp).")
    String model;

    @Option(names = "--steps", defaultValue = "10000", description = "Training steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--report-every", defaultValue = "1000",
            description = "Report memory every N steps (default: ${DEFAULT-VALUE}).")
    int every;

    @Option(names = "--batch", defaultValue = "128", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--backend", paramLabel = "NAME", description = "Backend (default: the best available).")
    String backend;

    @Option(names = "--threads", defaultValue = "0", description = "Backend threads (default: 0 = per processor).")
    int threads;

    @Override
    public Integer call() throws IOException {
        if (steps < 1 || every < 1 || batch < 1) {
            throw new ParameterException(spec.commandLine(), "--steps, --report-every and --batch must be >= 1");
        }
        if (!Models.isKnown(model)) {
            throw new ParameterException(spec.commandLine(), "unknown --model '" + model + "' (known: "
                    + Models.NAMES + ")");
        }
        PrintStream out = main.out();
        BackendOptions options = BackendOptions.defaults().withThreads(threads);
        try (Sinew sn = backend == null ? Sinew.open(options) : Sinew.use(backend, options)) {
            Backend b = sn.backend();
            Generator g = sn.generator(1);
            long firstBuffers = -1;
            long firstBytes = -1;
            long lastBuffers = -1;
            long lastBytes = -1;
            out.printf(Locale.ROOT, "soak: %s on %s, batch %d, %d steps%n", model, b.name(), batch, steps);
            out.printf(Locale.ROOT, "%8s %10s %12s %12s %12s%n", "step", "rss MiB", "live bufs", "live MiB",
                    "pool peak MiB");
            try (Module m = Models.create(model, sn, g);
                    Optimizer opt = OptimizerKind.ADAM.create(m.parameters(), 1e-3)) {
                for (int step = 1; step <= steps; step++) {
                    try (Scope s = sn.scope()) {
                        Tensor x = sn.rand(g, DType.FLOAT32, batch, 784); // [B, 784]
                        long[] labels = new long[batch];
                        for (int i = 0; i < batch; i++) {
                            labels[i] = g.nextInt(10);
                        }
                        Tensor y = sn.fromArray(labels, batch); // [B]
                        opt.zeroGrad();
                        Losses.crossEntropy(m.forward(x), y).backward();
                        opt.step();
                    }
                    if (step == 1 || step % every == 0 || step == steps) {
                        long bufs = b.liveBuffers();
                        long bytes = b.liveBytes();
                        out.printf(Locale.ROOT, "%8d %10.1f %12d %12.1f %12.1f%n", step, rssMiB(), bufs,
                                bytes / 1048576.0, b.peakBytes() / 1048576.0);
                        if (step >= every && firstBuffers < 0) {
                            firstBuffers = bufs;
                            firstBytes = bytes;
                        }
                        lastBuffers = bufs;
                        lastBytes = bytes;
                    }
                }
            }
            boolean steady = firstBuffers < 0 || (firstBuffers == lastBuffers && firstBytes == lastBytes);
            out.println(steady ? "soak: steady (live buffers and bytes unchanged after warm-up)"
                    : "soak: NOT steady: live buffers " + firstBuffers + " -> " + lastBuffers + ", bytes "
                            + firstBytes + " -> " + lastBytes);
            return steady ? 0 : Main.EXIT_FAILURE;
        }
    }

    /** Resident set size of this process from /proc (NaN where there is no /proc). */
    static double rssMiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }
}
