package dev.sinew.bench.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.sinew.Sinew;
import dev.sinew.bench.train.CharCorpus;
import dev.sinew.bench.train.CharLstmConfig;
import dev.sinew.bench.train.CharLstmRun;
import dev.sinew.bench.train.Models;
import dev.sinew.bench.train.OptimizerKind;
import dev.sinew.bench.train.TrainListener;
import dev.sinew.io.Checkpoint;
import dev.sinew.io.CheckpointWriter;
import dev.sinew.spi.BackendOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.ParameterException;

/**
 * {@code sinew train --model charlstm}: the character-level language model ({@link CharLstmRun}) with
 * the options of a {@link TrainCommand} it was parsed into. After each epoch one line of figures and a
 * generated sample go to standard output; with {@code --json} the last line is one JSON object.
 *
 * <p>One instance per invocation; it only reads the command's fields. Not thread-safe.
 */
final class CharLstmCommand {
    private final TrainCommand c;

    CharLstmCommand(TrainCommand c) {
        this.c = c;
    }

    int call() throws IOException {
        if (c.threads < 0) {
            throw new ParameterException(c.spec.commandLine(), "--threads must be 0 (one per processor) or more, got "
                    + c.threads);
        }
        if (c.checkpoint == null && (c.every != null || c.given("--keep"))) {
            throw new ParameterException(c.spec.commandLine(), (c.every != null ? "--every" : "--keep")
                    + " needs --checkpoint DIR");
        }
        if (c.every != null && c.every < 1) {
            throw new ParameterException(c.spec.commandLine(), "--every must be at least 1, got " + c.every);
        }
        if (c.keep < 1) {
            throw new ParameterException(c.spec.commandLine(), "--keep must be at least 1, got " + c.keep);
        }
        if (c.maxValChars != null && c.maxValChars < 1) {
            throw new ParameterException(c.spec.commandLine(), "--max-val-chars must be at least 1, got " + c.maxValChars);
        }
        CharLstmConfig config;
        try {
            config = new CharLstmConfig(c.epochs, c.batchOption != null ? c.batchOption : Models.defaultBatch(Models.CHARLSTM),
                    c.seq, c.hidden, c.embed, c.lr, OptimizerKind.parse(c.optimizer), c.seed, c.clip, c.temperature,
                    c.sampleChars);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(c.spec.commandLine(), e.getMessage(), e);
        }
        PrintStream out = c.main.out();
        PrintStream err = c.main.err();
        try (CheckpointWriter cw = c.checkpoint == null ? null : CheckpointWriter.open(c.checkpoint, c.keep)) {
            Checkpoint ck = null;
            if (c.resume != null) {
                ck = Checkpoint.read(c.resume);
                config = resumedConfig(CharLstmRun.Saved.decode(ck).config());
            }
            if (cw != null && TrainCommand.holdsCheckpoints(c.checkpoint)
                    && (ck == null || !TrainCommand.sameFolder(ck.folder().getParent(), c.checkpoint))) {
                throw new ParameterException(c.spec.commandLine(), "--checkpoint " + c.checkpoint + " already holds"
                        + " checkpoints; continue from them with --resume " + c.checkpoint + ", or choose an empty folder");
            }
            CharCorpus corpus = CharCorpus.load(c.text); // data problems fail before any backend work
            BackendOptions options = BackendOptions.defaults().withThreads(c.threads);
            try (Sinew sn = c.backend == null ? Sinew.open(options) : Sinew.use(c.backend, options)) {
                int threads = TrainCommand.backendThreads(sn, options);
                CharLstmConfig cfg = config;
                int steps = CharLstmRun.stepsPerEpoch(corpus, cfg);
                out.printf(Locale.ROOT, "data: %s: %,d characters (%,d train, %,d validation), vocabulary of %d%n",
                        corpus.description(), corpus.train().length + corpus.valid().length, corpus.train().length,
                        corpus.valid().length, corpus.vocabSize());
                out.printf(Locale.ROOT, "model: char-LSTM, embedding %d, LSTM hidden %d, linear to %d; optimizer %s"
                                + " (lr %s), clip %s, batch %d x %d characters, %d epoch%s of %,d steps, seed %d%n",
                        cfg.embed(), cfg.hidden(), corpus.vocabSize(), cfg.optimizer().cliName(), cfg.lr(),
                        cfg.clip() > 0 ? Double.toString(cfg.clip()) : "none", cfg.batch(), cfg.seq(), cfg.epochs(),
                        cfg.epochs() == 1 ? "" : "s", steps, cfg.seed());
                out.printf(Locale.ROOT, "backend: %s, %d thread%s%n", sn.backend().name(), threads, threads == 1 ? "" : "s");
                if (ck != null) {
                    out.printf(Locale.ROOT, "resumed: %s, step %d%n", ck.folder(), ck.step());
                }
                out.flush();
                CharLstmRun.Result result;
                try (ProgressBarListener bar = c.noProgress ? null : new ProgressBarListener(err, cfg.epochs())) {
                    TrainListener listener = bar == null ? TrainListener.NONE : bar;
                    if (c.printLosses) {
                        listener = TrainListener.both(listener, new TrainCommand.LossPrinter(out));
                    }
                    result = CharLstmRun.run(sn, threads, cfg, corpus, listener, (e, sample) -> {
                        out.printf(Locale.ROOT, "epoch %d/%d: train loss %.4f nats/char, train acc %.4f, val loss %.4f"
                                        + " nats/char (%.3f bits), %.1f s, %,.0f chars/s%n",
                                e.epoch(), cfg.epochs(), e.trainLoss(), e.trainAccuracy(), e.valLoss(),
                                e.valLoss() / Math.log(2), e.trainSeconds() + e.evalSeconds(),
                                e.trainSeconds() > 0 ? e.chars() / e.trainSeconds() : 0);
                        if (!sample.isEmpty()) {
                            out.printf(Locale.ROOT, "sample (temperature %s):%n", cfg.temperature());
                            for (String line : sample.split("\n", -1)) {
                                out.println("  | " + line);
                            }
                        }
                        out.flush();
                    }, cw == null ? null : new CharLstmRun.CharLstmCheckpointWriter(cw, c.every == null ? 0 : c.every),
                            c.maxSteps == null ? 0 : c.maxSteps, c.maxValChars == null ? 0 : c.maxValChars, ck);
                }
                out.printf(Locale.ROOT, "done: validation loss %.4f nats/char after %d epoch%s in %.1f s (%,.0f training"
                                + " characters/s)%n", result.last().valLoss(), cfg.epochs(), cfg.epochs() == 1 ? "" : "s",
                        result.seconds(), result.charsPerSecond());
                if (cw != null && cw.lastSaved() != null) {
                    out.println("checkpoint: " + cw.lastSaved());
                }
                if (c.json) {
                    out.println(toJson(result));
                }
                out.flush();
            }
        }
        return 0;
    }

    /** The checkpoint's settings, with --epochs when given; any other setting given must agree. */
    private CharLstmConfig resumedConfig(CharLstmConfig s) {
        List<String> conflicts = new ArrayList<>();
        check(conflicts, "--batch", c.batchOption == null ? null : c.batchOption.doubleValue(), s.batch());
        check(conflicts, "--seq", (double) c.seq, s.seq());
        check(conflicts, "--hidden", (double) c.hidden, s.hidden());
        check(conflicts, "--embed", (double) c.embed, s.embed());
        check(conflicts, "--lr", c.lr, s.lr());
        check(conflicts, "--seed", (double) c.seed, s.seed());
        check(conflicts, "--clip", c.clip, s.clip());
        check(conflicts, "--temperature", c.temperature, s.temperature());
        check(conflicts, "--sample-chars", (double) c.sampleChars, s.sampleChars());
        if (c.given("--optimizer") && OptimizerKind.parse(c.optimizer) != s.optimizer()) {
            conflicts.add("--optimizer " + c.optimizer + " (checkpoint: " + s.optimizer().cliName() + ")");
        }
        if (!conflicts.isEmpty()) {
            throw new ParameterException(c.spec.commandLine(), "--resume: " + String.join(", ", conflicts)
                    + ": a resumed run keeps the checkpoint's settings (only --epochs may change)");
        }
        return c.given("--epochs") ? s.withEpochs(c.epochs) : s;
    }

    private void check(List<String> conflicts, String option, Double given, double saved) {
        if (c.given(option) && given != null && Double.compare(given, saved) != 0) {
            conflicts.add(option + " " + plain(given) + " (checkpoint: " + plain(saved) + ")");
        }
    }

    private static String plain(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    /**
     * The {@code --json} line: model, backend, epochs, batch, train_loss and val_loss (nats per character,
     * the last epoch's), samples_per_sec (training sequences per second) and chars_per_sec (predicted
     * characters per second, training passes only), seconds (all epochs, training and evaluation), data
     * ({@code bundled} or {@code explicit}), then the rest of the settings.
     */
    static String toJson(CharLstmRun.Result r) {
        CharLstmConfig cfg = r.config();
        JsonObject o = new JsonObject();
        o.addProperty("model", Models.CHARLSTM);
        o.addProperty("backend", r.backend());
        o.addProperty("epochs", cfg.epochs());
        o.addProperty("batch", cfg.batch());
        o.addProperty("train_loss", r.last().trainLoss());
        o.addProperty("val_loss", r.last().valLoss());
        o.addProperty("samples_per_sec", r.sequencesPerSecond());
        o.addProperty("chars_per_sec", r.charsPerSecond());
        o.addProperty("seconds", r.seconds());
        o.addProperty("data", r.corpus().tag());
        o.addProperty("data_description", r.corpus().description());
        o.addProperty("optimizer", cfg.optimizer().cliName());
        o.addProperty("lr", cfg.lr());
        o.addProperty("seed", cfg.seed());
        o.addProperty("threads", r.threads());
        o.addProperty("seq", cfg.seq());
        o.addProperty("hidden", cfg.hidden());
        o.addProperty("embed", cfg.embed());
        o.addProperty("clip", cfg.clip());
        o.addProperty("vocab", r.corpus().vocabSize());
        o.addProperty("steps_per_epoch", r.stepsPerEpoch());
        o.addProperty("train_chars", r.corpus().train().length);
        o.addProperty("val_chars", r.valChars());
        return new GsonBuilder().disableHtmlEscaping().serializeSpecialFloatingPointValues().create().toJson(o);
    }
}
