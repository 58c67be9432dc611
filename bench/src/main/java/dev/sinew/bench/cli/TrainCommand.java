package dev.sinew.bench.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.sinew.Sinew;
import dev.sinew.bench.Main;
import dev.sinew.bench.train.CharLstmRun;
import dev.sinew.bench.train.EpochStats;
import dev.sinew.bench.train.Models;
import dev.sinew.bench.train.OptimizerKind;
import dev.sinew.bench.train.TrainConfig;
import dev.sinew.bench.train.TrainListener;
import dev.sinew.bench.train.TrainResult;
import dev.sinew.bench.train.TrainRun;
import dev.sinew.bench.train.TrainCheckpoint;
import dev.sinew.data.DataLoader;
import dev.sinew.data.FashionMnist;
import dev.sinew.io.Checkpoint;
import dev.sinew.io.CheckpointWriter;
import dev.sinew.spi.BackendOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
 * epoch, or with {@code --model charlstm} a character-level language model on a text
 * ({@link CharLstmCommand}). Progress goes to standard error; one line per epoch, then a summary (or with
 * {@code --json} one JSON object as the last line) to standard output. With {@code --checkpoint DIR}
 * it saves checkpoints there (holding the folder's lock for the whole run); with {@code --resume DIR}
 * it continues a saved run exactly.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a model on Fashion-MNIST and evaluate it on the test split after each epoch,"
                + " or (--model charlstm) a character-level language model on a text.",
                "Data: --data DIR, else /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist),"
                        + " else the bundled 10,000-image test split (then 8,000 train / 2,000 test)."})
public final class TrainCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "NAME", defaultValue = "mlp",
            description = "Model: " + Models.NAMES + " (default: ${DEFAULT-VALUE}; mlp is 784-512-256-10 with ReLU, tiny-mlp"
                    + " 784-32-10 for quick tests, lenet LeNet-5, charlstm a character-level language model).")
    String model;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "2", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch", paramLabel = "B",
            description = "Batch size (default: 128; lenet 64; charlstm 32 sequences).")
    Integer batchOption;

    /** The batch size: --batch, else the model's default. */
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

    @Option(names = "--checkpoint", paramLabel = "DIR",
            description = "Save checkpoints in DIR: at each epoch end, or every N steps with --every (and after the"
                    + " last epoch). DIR must not hold checkpoints already, unless the run resumes from them.")
    Path checkpoint;

    @Option(names = "--every", paramLabel = "N",
            description = "With --checkpoint: save every N training steps instead of at each epoch end.")
    Integer every;

    @Option(names = "--keep", paramLabel = "N", defaultValue = "1",
            description = "With --checkpoint: how many of the newest checkpoints to keep (default: ${DEFAULT-VALUE}).")
    int keep;

    @Option(names = "--resume", paramLabel = "DIR",
            description = "Continue from the latest checkpoint in DIR (or from one ckpt-<step> folder) with the same"
                    + " losses as an uninterrupted run. Settings not given are the checkpoint's; --epochs may be"
                    + " raised. Add --checkpoint DIR to go on saving.")
    Path resume;

    @Option(names = "--text", paramLabel = "FILE",
            description = "charlstm: the UTF-8 text to learn (plain or .gz; default: the bundled King James Bible,"
                    + " Genesis to Esther). Its first 90 % trains, its last 10 % validates.")
    Path text;

    @Option(names = "--seq", paramLabel = "T", defaultValue = "64",
            description = "charlstm: characters per training sequence (default: ${DEFAULT-VALUE}).")
    int seq;

    @Option(names = "--hidden", paramLabel = "H", defaultValue = "256",
            description = "charlstm: LSTM hidden size (default: ${DEFAULT-VALUE}).")
    int hidden;

    @Option(names = "--embed", paramLabel = "E", defaultValue = "64",
            description = "charlstm: character embedding width (default: ${DEFAULT-VALUE}).")
    int embed;

    @Option(names = "--clip", paramLabel = "X", defaultValue = "5",
            description = "charlstm: clip the gradients' global L2 norm to X, 0 for none (default: ${DEFAULT-VALUE}).")
    double clip;

    @Option(names = "--temperature", paramLabel = "X", defaultValue = "0.8",
            description = "charlstm: sampling temperature of the text generated after each epoch (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--sample-chars", paramLabel = "N", defaultValue = "200",
            description = "charlstm: characters generated after each epoch, 0 for none (default: ${DEFAULT-VALUE}).")
    int sampleChars;

    @Option(names = "--max-steps", paramLabel = "N", hidden = true,
            description = "End each epoch's training after at most N steps (smoke runs; not with checkpoints).")
    Integer maxSteps;

    @Option(names = "--max-val-chars", paramLabel = "N", hidden = true,
            description = "charlstm: validate on at most about N characters (smoke runs).")
    Integer maxValChars;

    /** Options that only the char-LSTM takes. */
    private static final List<String> CHARLSTM_ONLY = List.of("--text", "--seq", "--hidden", "--embed", "--clip",
            "--temperature", "--sample-chars", "--max-val-chars");

    @Option(names = "--print-losses", hidden = true, description = "Print every step's loss (diagnostics, tests).")
    boolean printLosses;

    @Override
    public Integer call() throws IOException {
        String name = model.trim().toLowerCase(Locale.ROOT);
        boolean charlstm = name.equals(Models.CHARLSTM);
        if (resume != null) {
            boolean savedCharLstm = Checkpoint.read(resume).extra().containsKey(CharLstmRun.KEY);
            if (given("--model") && charlstm != savedCharLstm) {
                throw new ParameterException(spec.commandLine(), "--resume: --model " + model + " (checkpoint: "
                        + (savedCharLstm ? Models.CHARLSTM : "a Fashion-MNIST classifier") + "): a resumed run keeps the"
                        + " checkpoint's settings (only --epochs may change)");
            }
            charlstm = savedCharLstm;
        }
        if (maxSteps != null && maxSteps < 1) {
            throw new ParameterException(spec.commandLine(), "--max-steps must be at least 1, got " + maxSteps);
        }
        if (maxSteps != null && (checkpoint != null || resume != null)) {
            throw new ParameterException(spec.commandLine(), "--max-steps cannot be combined with --checkpoint or --resume");
        }
        if (charlstm) {
            if (data != null) {
                throw new ParameterException(spec.commandLine(), "--data is for the Fashion-MNIST models; give"
                        + " charlstm its text with --text FILE");
            }
            return new CharLstmCommand(this).call();
        }
        for (String o : CHARLSTM_ONLY) {
            if (given(o)) {
                throw new ParameterException(spec.commandLine(), o + " is an option of --model charlstm only");
            }
        }
        batch = batchOption != null ? batchOption : Models.defaultBatch(name);
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
        if (checkpoint == null && (every != null || given("--keep"))) {
            throw new ParameterException(spec.commandLine(), (every != null ? "--every" : "--keep")
                    + " needs --checkpoint DIR");
        }
        if (every != null && every < 1) {
            throw new ParameterException(spec.commandLine(), "--every must be at least 1, got " + every);
        }
        if (keep < 1) {
            throw new ParameterException(spec.commandLine(), "--keep must be at least 1, got " + keep);
        }
        PrintStream out = main.out();
        PrintStream err = main.err();

        try (CheckpointWriter writer = checkpoint == null ? null : CheckpointWriter.open(checkpoint, keep)) {
            Checkpoint ck = null;
            TrainCheckpoint saved = null;
            if (resume != null) {
                ck = Checkpoint.read(resume);
                saved = TrainCheckpoint.decode(ck);
                config = resumedConfig(saved, ck);
            }
            if (writer != null && holdsCheckpoints(checkpoint)) {
                if (ck == null || !sameFolder(ck.folder().getParent(), checkpoint)) {
                    throw new ParameterException(spec.commandLine(), "--checkpoint " + checkpoint + " already holds"
                            + " checkpoints; continue from them with --resume " + checkpoint + ", or choose an empty folder");
                }
            }
            FashionMnist fm = FashionMnist.load(data); // data problems fail before any backend work
            BackendOptions options = BackendOptions.defaults().withThreads(threads);
            try (Sinew sn = backend == null ? Sinew.open(options) : Sinew.use(backend, options)) {
                int resolvedThreads = backendThreads(sn, options);
                int totalEpochs = config.epochs();
                out.println("data: " + fm.description());
                out.printf(Locale.ROOT, "model: %s, optimizer %s (lr %s), batch %d, %d epoch%s, seed %d%n",
                        Models.describe(config.model()), config.optimizer().cliName(), config.lr(), config.batch(),
                        totalEpochs, totalEpochs == 1 ? "" : "s", config.seed());
                out.printf(Locale.ROOT, "backend: %s, %d thread%s%n", sn.backend().name(), resolvedThreads,
                        resolvedThreads == 1 ? "" : "s");
                if (ck != null) {
                    DataLoader.Position p = ck.loader();
                    out.printf(Locale.ROOT, "resumed: %s, step %d (epoch %d, batch %d of %d)%n", ck.folder(), ck.step(),
                            p.epoch(), p.batch(), (p.samples() + p.batchSize() - 1) / p.batchSize());
                    if (!saved.backend().equals(sn.backend().name()) || saved.threads() != resolvedThreads) {
                        out.printf(Locale.ROOT, "note: the checkpoint was made on %s with %d thread%s; on another backend"
                                + " or thread count the losses may differ in the last bits from an uninterrupted run%n",
                                saved.backend(), saved.threads(), saved.threads() == 1 ? "" : "s");
                    }
                }
                out.flush();
                TrainResult result;
                try (ProgressBarListener bar = noProgress ? null : new ProgressBarListener(err, totalEpochs)) {
                    TrainListener listener = bar == null ? TrainListener.NONE : bar;
                    if (printLosses) {
                        listener = TrainListener.both(listener, new LossPrinter(out));
                    }
                    result = TrainRun.run(sn, resolvedThreads, config, fm, listener, e -> printEpoch(out, e, totalEpochs),
                            writer, every == null ? 0 : every, ck, maxSteps == null ? 0 : maxSteps);
                }
                out.printf(Locale.ROOT, "done: test accuracy %.4f after %d epoch%s in %.1f s (%,.0f training samples/s)%n",
                        result.testAccuracy(), totalEpochs, totalEpochs == 1 ? "" : "s", result.seconds(),
                        result.samplesPerSecond());
                if (writer != null && writer.lastSaved() != null) {
                    out.println("checkpoint: " + writer.lastSaved());
                }
                if (fm.testSplitOnly()) {
                    out.println("note: trained and evaluated on parts of the test split only (see data: above);"
                            + " install dataset-fashion-mnist or pass --data for the standard split");
                }
                if (json) {
                    out.println(toJson(result));
                }
                out.flush();
            }
        }
        return 0;
    }

    /** Whether option {@code name} was given on the command line. */
    boolean given(String name) {
        var pr = spec.commandLine().getParseResult();
        return pr != null && pr.hasMatchedOption(name);
    }

    /**
     * The checkpoint's settings, with --epochs from the command line when given; any other setting
     * given must agree with the checkpoint's.
     */
    private TrainConfig resumedConfig(TrainCheckpoint saved, Checkpoint ck) {
        TrainConfig s = saved.config();
        List<String> conflicts = new ArrayList<>();
        if (given("--model") && !model.trim().equalsIgnoreCase(s.model())) {
            conflicts.add("--model " + model + " (checkpoint: " + s.model() + ")");
        }
        if (given("--batch") && batchOption != s.batch()) {
            conflicts.add("--batch " + batchOption + " (checkpoint: " + s.batch() + ")");
        }
        if (given("--lr") && Double.compare(lr, s.lr()) != 0) {
            conflicts.add("--lr " + lr + " (checkpoint: " + s.lr() + ")");
        }
        if (given("--optimizer") && OptimizerKind.parse(optimizer) != s.optimizer()) {
            conflicts.add("--optimizer " + optimizer + " (checkpoint: " + s.optimizer().cliName() + ")");
        }
        if (given("--seed") && seed != s.seed()) {
            conflicts.add("--seed " + seed + " (checkpoint: " + s.seed() + ")");
        }
        if (!conflicts.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "--resume: " + String.join(", ", conflicts)
                    + ": a resumed run keeps the checkpoint's settings (only --epochs may change)");
        }
        int total = given("--epochs") ? epochs : s.epochs();
        int reached = ck.loader() == null ? 0 : ck.loader().epoch();
        if (total < reached) {
            throw new ParameterException(spec.commandLine(), "--epochs " + total + " is fewer than the checkpoint has"
                    + " reached (epoch " + reached + ")");
        }
        return new TrainConfig(s.model(), total, s.batch(), s.lr(), s.optimizer(), s.seed(), s.evalBatch());
    }

    static boolean holdsCheckpoints(Path dir) throws IOException {
        return Files.exists(dir.resolve(Checkpoint.LATEST)) || !Checkpoint.list(dir).isEmpty();
    }

    static boolean sameFolder(Path a, Path b) throws IOException {
        return a != null && Files.isSameFile(a, b);
    }

    /** Prints {@code step <global step> epoch <epoch> loss <loss>} per step; the loss as Java prints the double, exactly. */
    static final class LossPrinter implements TrainListener {
        private final PrintStream out;
        private int steps;

        LossPrinter(PrintStream out) {
            this.out = out;
        }

        @Override
        public void epochStarted(int epoch, int steps, int samples) {
            this.steps = steps;
        }

        @Override
        public void stepDone(int epoch, int step, int samplesSoFar, double loss, double runningAccuracy) {
            out.println("step " + ((long) (epoch - 1) * steps + step) + " epoch " + epoch + " loss " + loss);
        }
    }

    /** The thread count the backend reports in describe(), else the one it was asked for. */
    static int backendThreads(Sinew sn, BackendOptions options) {
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
