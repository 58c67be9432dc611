package dev.sinew.bench.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.sinew.Sinew;
import dev.sinew.bench.Main;
import dev.sinew.bench.train.EpochStats;
import dev.sinew.bench.train.Models;
import dev.sinew.bench.train.OptimizerKind;
import dev.sinew.bench.train.TrainConfig;
import dev.sinew.bench.train.TrainListener;
import dev.sinew.bench.train.TrainResult;
import dev.sinew.bench.train.TrainRun;
import dev.sinew.data.FashionMnist;
import dev.sinew.spi.BackendOptions;
import java.io.IOException;
import java.io.PrintStream;
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
 * {@code sinew train}: trains a model on Fashion-MNIST, evaluating on the test split after each
 * epoch. Progress goes to standard error; one line per epoch, then a summary (or with
 * {@code --json} one JSON object as the last line) to standard output.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a model on Fashion-MNIST and evaluate it on the test split after each epoch.",
                "Data: --data DIR, else /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist),"
                        + " else the bundled 10,000-image test split (then 8,000 train / 2,000 test)."})
public final class TrainCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "NAME", defaultValue = "mlp",
            description = "Model: " + Models.NAMES + " (default: ${DEFAULT-VALUE}; mlp is 784-512-256-10 with ReLU).")
    String model;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "2", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "128", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--lr", paramLabel = "X", defaultValue = "1e-3", description = "Learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--optimizer", paramLabel = "NAME", defaultValue = "adam",
            description = "adam, sgd, adamw or rmsprop (default: ${DEFAULT-VALUE}).")
    String optimizer;

    @Option(names = "--backend", paramLabel = "NAME",
            description = "Backend (cpu, reference, cuda, ...; default: -Dsinew.backend, SINEW_BACKEND, else the best available).")
    String backend;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
            description = "Seed for initialisation and shuffling (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--data", paramLabel = "DIR", description = "Directory holding the Fashion-MNIST IDX files (raw or .gz).")
    Path data;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "Backend threads (default: 0 = one per processor).")
    int threads;

    @Option(names = "--json", description = "End standard output with one JSON object summarising the run.")
    boolean json;

    @Option(names = "--no-progress", description = "No live progress bar on standard error.")
    boolean noProgress;

    @Override
    public Integer call() throws IOException {
        OptimizerKind opt;
        TrainConfig config;
        try {
            opt = OptimizerKind.parse(optimizer);
            config = new TrainConfig(model.trim().toLowerCase(Locale.ROOT), epochs, batch, lr, opt, seed, 1000);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        if (threads < 0) {
            throw new ParameterException(spec.commandLine(), "--threads must be 0 (one per processor) or more, got " + threads);
        }
        PrintStream out = main.out();
        PrintStream err = main.err();

        FashionMnist fm = FashionMnist.load(data); // data problems fail before any backend work
        BackendOptions options = BackendOptions.defaults().withThreads(threads);
        try (Sinew sn = backend == null ? Sinew.open(options) : Sinew.use(backend, options)) {
            int resolvedThreads = backendThreads(sn, options);
            out.println("data: " + fm.description());
            out.printf(Locale.ROOT, "model: %s, optimizer %s (lr %s), batch %d, %d epoch%s, seed %d%n",
                    Models.describe(config.model()), opt.cliName(), lr, batch, epochs, epochs == 1 ? "" : "s", seed);
            out.printf(Locale.ROOT, "backend: %s, %d thread%s%n", sn.backend().name(), resolvedThreads,
                    resolvedThreads == 1 ? "" : "s");
            out.flush();
            TrainResult result;
            try (ProgressBarListener bar = noProgress ? null : new ProgressBarListener(err, epochs)) {
                TrainListener listener = bar == null ? TrainListener.NONE : bar;
                result = TrainRun.run(sn, resolvedThreads, config, fm, listener, e -> printEpoch(out, e, epochs));
            }
            out.printf(Locale.ROOT, "done: test accuracy %.4f after %d epoch%s in %.1f s (%,.0f training samples/s)%n",
                    result.testAccuracy(), epochs, epochs == 1 ? "" : "s", result.seconds(), result.samplesPerSecond());
            if (fm.testSplitOnly()) {
                out.println("note: trained and evaluated on parts of the test split only (see data: above);"
                        + " install dataset-fashion-mnist or pass --data for the standard split");
            }
            if (json) {
                out.println(toJson(result));
            }
            out.flush();
        }
        return 0;
    }

    /** The thread count the backend reports in describe(), else the one it was asked for. */
    private static int backendThreads(Sinew sn, BackendOptions options) {
        String t = sn.backend().describe().get("threads");
        if (t != null) {
            try {
                return Integer.parseInt(t.trim());
            } catch (NumberFormatException e) {
                // not a plain number: fall through
            }
        }
        return options.resolvedThreads();
    }

    private static void printEpoch(PrintStream out, EpochStats e, int epochs) {
        out.printf(Locale.ROOT,
                "epoch %d/%d: train loss %.4f, train acc %.4f, test loss %.4f, test acc %.4f, %.1f s, %,.0f samples/s%n",
                e.epoch(), epochs, e.trainLoss(), e.trainAccuracy(), e.testLoss(), e.testAccuracy(),
                e.trainSeconds() + e.evalSeconds(), e.samplesPerSecond());
        out.flush();
    }

    /**
     * The {@code --json} line: model, backend, epochs, batch, train_loss (mean over the last epoch),
     * test_accuracy (fraction, after the last epoch), samples_per_sec (training passes only),
     * seconds (all epochs, training and evaluation), data (which data was used), then the rest of
     * the settings.
     */
    static String toJson(TrainResult r) {
        JsonObject o = new JsonObject();
        o.addProperty("model", r.config().model());
        o.addProperty("backend", r.backend());
        o.addProperty("epochs", r.config().epochs());
        o.addProperty("batch", r.config().batch());
        o.addProperty("train_loss", r.trainLoss());
        o.addProperty("test_accuracy", r.testAccuracy());
        o.addProperty("samples_per_sec", r.samplesPerSecond());
        o.addProperty("seconds", r.seconds());
        o.addProperty("data", r.dataTag());
        o.addProperty("data_description", r.dataDescription());
        o.addProperty("optimizer", r.config().optimizer().cliName());
        o.addProperty("lr", r.config().lr());
        o.addProperty("seed", r.config().seed());
        o.addProperty("threads", r.threads());
        o.addProperty("train_samples", r.last().trainSamples());
        o.addProperty("test_samples", r.testSamples());
        Gson gson = new GsonBuilder().disableHtmlEscaping().serializeSpecialFloatingPointValues().create();
        return gson.toJson(o);
    }
}
