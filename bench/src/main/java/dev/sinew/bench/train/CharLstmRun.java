package dev.sinew.bench.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.io.Checkpoint;
import dev.sinew.io.CheckpointFormatException;
import dev.sinew.io.CheckpointWriter;
import dev.sinew.io.TrainingState;
import dev.sinew.models.CharLstm;
import dev.sinew.nn.Losses;
import dev.sinew.nn.Reduction;
import dev.sinew.optim.GradClip;
import dev.sinew.optim.Optimizer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A whole character-level language-model run ({@code sinew train --model charlstm}): a
 * {@link CharLstm} trained on a {@link CharCorpus} with cross-entropy on every step (the mean over all
 * B·T predicted characters), evaluated on the validation text after each epoch, with a generated
 * sample; optionally saving checkpoints and resuming from one.
 *
 * <p><b>Batches.</b> Each training step reads {@code batch} sequences of {@code seq}+1 characters at
 * <em>random offsets</em> into the training text (uniform, drawn from the seeded {@code data}
 * generator), inputs the first {@code seq} and targets the last {@code seq}; every sequence starts
 * from zero LSTM states. An epoch is a fixed number of steps, {@code trainChars / (batch·seq)} (at
 * least 1), so it reads as many characters as the training text holds, though not each exactly once.
 * Random offsets make the data position a generator state, which a checkpoint saves exactly.
 *
 * <p><b>Validation.</b> The validation text is cut into consecutive, non-overlapping stretches of
 * {@code seq}+1 characters (the last {@code seq} of each predicted, zero initial states), evaluated
 * {@code batch} at a time; the loss is the mean cross-entropy per predicted character, in nats.
 *
 * <p><b>Samples.</b> After each epoch, {@code sampleChars} characters are generated from a newline,
 * one at a time (the LSTM's states carried from character to character), each drawn from
 * {@code softmax(logits / temperature)} with the seeded {@code sample} generator.
 *
 * <p>Stateless; everything a run makes is closed before {@link #run} returns. The {@link Sinew} stays
 * the caller's.
 */
public final class CharLstmRun {
    /** The key of this workload's record in {@link Checkpoint#extra()}. */
    public static final String KEY = "sinew.charlstm";

    private static final long DATA_SALT = 0x9E3779B97F4A7C15L;
    private static final long SAMPLE_SALT = 0xD1B54A32D192ED03L;

    private CharLstmRun() {
    }

    /**
     * One epoch's figures.
     *
     * @param trainLoss     mean training cross-entropy per character over the epoch, nats
     * @param trainAccuracy fraction of training characters predicted right (argmax) during the epoch
     * @param valLoss       validation cross-entropy per character after the epoch, nats
     * @param sequences     sequences trained on
     * @param chars         characters predicted in training (sequences · seq)
     * @param trainSeconds  wall time of the training pass
     * @param evalSeconds   wall time of validation and sampling
     */
    public record Epoch(int epoch, double trainLoss, double trainAccuracy, double valLoss, long sequences, long chars,
            double trainSeconds, double evalSeconds) {
    }

    /**
     * The outcome of a run.
     *
     * @param valChars characters predicted in each validation
     * @param seconds  wall time of all epochs, training and evaluation
     */
    public record Result(CharLstmConfig config, String backend, int threads, CharCorpus corpus, int stepsPerEpoch,
            long valChars, List<Epoch> epochs, double seconds) {
        public Result {
            epochs = List.copyOf(epochs);
        }

        public Epoch last() {
            return epochs.get(epochs.size() - 1);
        }

        /** Training sequences per second over all epochs (training passes only). */
        public double sequencesPerSecond() {
            double s = epochs.stream().mapToDouble(Epoch::trainSeconds).sum();
            return s > 0 ? epochs.stream().mapToLong(Epoch::sequences).sum() / s : 0;
        }

        /** Training characters per second over all epochs (training passes only). */
        public double charsPerSecond() {
            double s = epochs.stream().mapToDouble(Epoch::trainSeconds).sum();
            return s > 0 ? epochs.stream().mapToLong(Epoch::chars).sum() / s : 0;
        }
    }

    /** Hears each finished epoch with its sample (empty with no sample). */
    @FunctionalInterface
    public interface EpochListener {
        void epochDone(Epoch epoch, String sample);
    }

    /** Steps per epoch: the training characters over the characters a step predicts, at least 1. */
    public static int stepsPerEpoch(CharCorpus corpus, CharLstmConfig c) {
        return (int) Math.max(1, corpus.train().length / ((long) c.batch() * c.seq()));
    }

    /**
     * Trains with {@code config} on {@code corpus}.
     *
     * @param maxSteps    at most this many training steps per epoch (0: the full epoch), for smoke runs;
     *                    not with checkpoints
     * @param maxValChars validate on at most about this many characters (0: the whole validation text)
     * @param writer      where to save checkpoints (after every {@code every} steps, or each epoch with
     *                    {@code every == 0}, and after the last), or null; the caller owns it
     * @param resume      a checkpoint of this workload to continue from exactly, or null; {@code config}
     *                    must be its settings except for the number of epochs
     * @throws IllegalArgumentException if the text is too short for {@code seq}, or {@code resume} does not
     *                                  fit this corpus
     * @throws IllegalStateException    if the run diverges or a checkpoint cannot be written
     */
    public static Result run(Sinew sn, int threads, CharLstmConfig config, CharCorpus corpus, TrainListener listener,
            EpochListener onEpoch, CharLstmCheckpointWriter writer, int maxSteps, int maxValChars, Checkpoint resume)
            throws IOException {
        int[] train = corpus.train();
        int seq = config.seq();
        int batch = config.batch();
        if (train.length < seq + 1) {
            throw new IllegalArgumentException("--seq " + seq + " needs at least " + (seq + 1)
                    + " training characters; the text's training part has " + train.length);
        }
        if (corpus.valid().length < 2) {
            throw new IllegalArgumentException("the text's validation part (the last 10 %) has fewer than 2 characters");
        }
        int steps = stepsPerEpoch(corpus, config);
        int limit = maxSteps > 0 ? Math.min(maxSteps, steps) : steps;
        Generator init = new Generator(config.seed());
        Generator data = new Generator(config.seed() ^ DATA_SALT);
        Generator sampler = new Generator(config.seed() ^ SAMPLE_SALT);
        List<Epoch> history = new ArrayList<>();
        String backend = sn.backend().name();
        try (CharLstm model = new CharLstm(sn, corpus.vocabSize(), config.embed(), config.hidden(), init);
                Optimizer optimizer = config.optimizer().create(model.parameters(), config.lr())) {
            Map<String, Generator> gens = new LinkedHashMap<>();
            gens.put("init", init);
            gens.put("data", data);
            gens.put("sample", sampler);
            TrainingState state = new TrainingState(model, optimizer, null, null, gens);
            int firstEpoch = 1;
            Trainer.EpochProgress progress = Trainer.EpochProgress.START;
            double priorSeconds = 0;
            if (resume != null) {
                Saved saved = Saved.decode(resume);
                if (saved.crc() != corpus.crc() || !saved.vocab().equals(corpus.vocab())) {
                    throw new IllegalArgumentException(resume.folder() + ": the checkpoint was trained on another text ("
                            + saved.data() + ", " + saved.vocab().length() + " characters in its vocabulary, CRC-32C "
                            + Long.toHexString(saved.crc()) + "; this run's text has " + corpus.vocabSize() + ", "
                            + Long.toHexString(corpus.crc()) + ")");
                }
                resume.restore(state);
                if (writer != null) {
                    writer.rewindIfOwn(resume);
                }
                history.addAll(saved.history());
                priorSeconds = saved.seconds();
                boolean finished = history.stream().anyMatch(e -> e.epoch() == saved.progressEpoch());
                firstEpoch = finished ? saved.progressEpoch() + 1 : saved.progressEpoch();
                progress = finished ? Trainer.EpochProgress.START : saved.progress();
            }
            long t0 = System.nanoTime();
            long[] x = new long[batch * seq];
            long[] y = new long[batch * seq];
            List<Tensor> params = model.parameters();
            for (int e = firstEpoch; e <= config.epochs(); e++) {
                Trainer.EpochProgress p = e == firstEpoch ? progress : Trainer.EpochProgress.START;
                if (p.steps() == 0) {
                    listener.epochStarted(e, limit, limit * batch);
                } else {
                    listener.epochResumed(e, limit, limit * batch, p.steps(), p.samples());
                }
                model.train();
                double lossSum = p.lossSum(); // Σ over steps of mean loss · characters
                long correct = p.correct();
                int sequences = p.samples();
                long te0 = System.nanoTime();
                for (int s = p.steps() + 1; s <= limit; s++) {
                    for (int b = 0; b < batch; b++) {
                        int o = data.nextInt(train.length - seq); // the sequence reads train[o .. o+seq]
                        for (int t = 0; t < seq; t++) {
                            x[b * seq + t] = train[o + t];
                            y[b * seq + t] = train[o + t + 1];
                        }
                    }
                    double loss;
                    long right;
                    try (var scope = sn.scope()) {
                        Tensor xs = sn.fromArray(x, batch, seq);                 // [B, T]
                        Tensor ys = sn.fromArray(y, (long) batch * seq);        // [B·T]
                        optimizer.zeroGrad();
                        Tensor logits = model.forward(xs).reshape((long) batch * seq, corpus.vocabSize()); // [B·T, V]
                        Tensor lossT = Losses.crossEntropy(logits, ys);         // [] mean over B·T
                        lossT.backward();
                        if (config.clip() > 0) {
                            GradClip.clipGradNorm(params, config.clip());
                        }
                        optimizer.step();
                        loss = lossT.item();
                        try (var ng = sn.noGrad()) {
                            right = (long) logits.argmax(1).eq(ys).sum().item();
                        }
                    }
                    if (!Double.isFinite(loss)) {
                        throw new IllegalStateException("training diverged: the loss is " + loss + " at epoch " + e
                                + ", step " + s + " (try a smaller --lr or --clip)");
                    }
                    lossSum += loss * batch * seq;
                    correct += right;
                    sequences += batch;
                    listener.stepDone(e, s, sequences, loss, (double) correct / ((long) sequences * seq));
                    if (writer != null && writer.every() > 0 && s < limit && optimizer.stepCount() % writer.every() == 0) {
                        writer.save(optimizer.stepCount(), state, new Saved(config, backend, threads, corpus, history, e,
                                new Trainer.EpochProgress(lossSum, correct, sequences, s,
                                        p.seconds() + (System.nanoTime() - te0) / 1e9),
                                priorSeconds + (System.nanoTime() - t0) / 1e9));
                    }
                }
                double trainSeconds = p.seconds() + (System.nanoTime() - te0) / 1e9;
                listener.epochTrained(e);
                long tv = System.nanoTime();
                double[] val = validate(sn, model, corpus, config, maxValChars);
                String sample = sample(sn, model, corpus, config, sampler);
                double evalSeconds = (System.nanoTime() - tv) / 1e9;
                long chars = (long) sequences * seq;
                Epoch ep = new Epoch(e, lossSum / chars, (double) correct / chars, val[0], sequences, chars,
                        trainSeconds, evalSeconds);
                history.add(ep);
                onEpoch.epochDone(ep, sample);
                if (writer != null && (writer.every() == 0 || optimizer.stepCount() % writer.every() == 0
                        || e == config.epochs())) {
                    writer.save(optimizer.stepCount(), state, new Saved(config, backend, threads, corpus, history, e,
                            new Trainer.EpochProgress(lossSum, correct, sequences, limit, trainSeconds),
                            priorSeconds + (System.nanoTime() - t0) / 1e9));
                }
            }
            long valChars = (long) validationStretches(corpus, config, maxValChars) * Math.min(seq, corpus.valid().length - 1);
            return new Result(config, backend, threads, corpus, steps, valChars, history,
                    priorSeconds + (System.nanoTime() - t0) / 1e9);
        }
    }

    private static int validationStretches(CharCorpus corpus, CharLstmConfig c, int maxValChars) {
        int len = Math.min(c.seq(), corpus.valid().length - 1);
        int n = (corpus.valid().length - 1) / len;
        if (maxValChars > 0) {
            n = Math.max(1, Math.min(n, maxValChars / len));
        }
        return n;
    }

    /** {mean validation loss per character}; leaves the model in evaluation mode. */
    static double[] validate(Sinew sn, CharLstm model, CharCorpus corpus, CharLstmConfig c, int maxValChars) {
        model.eval();
        int[] v = corpus.valid();
        int len = Math.min(c.seq(), v.length - 1);
        int n = validationStretches(corpus, c, maxValChars);
        double sum = 0;
        try (var ng = sn.noGrad()) {
            for (int first = 0; first < n; first += c.batch()) {
                int b = Math.min(c.batch(), n - first);
                long[] x = new long[b * len];
                long[] y = new long[b * len];
                for (int i = 0; i < b; i++) {
                    int o = (first + i) * len; // stretches overlap by their boundary character only
                    for (int t = 0; t < len; t++) {
                        x[i * len + t] = v[o + t];
                        y[i * len + t] = v[o + t + 1];
                    }
                }
                try (var scope = sn.scope()) {
                    Tensor logits = model.forward(sn.fromArray(x, b, len)).reshape((long) b * len, corpus.vocabSize());
                    sum += Losses.crossEntropy(logits, sn.fromArray(y, (long) b * len), Reduction.SUM).item();
                }
            }
        }
        return new double[] {sum / ((long) n * len)};
    }

    /**
     * {@code c.sampleChars()} characters generated one at a time from a newline (or the validation
     * text's first character when the vocabulary has none), drawn with {@code g} at {@code c.temperature()}.
     */
    static String sample(Sinew sn, CharLstm model, CharCorpus corpus, CharLstmConfig c, Generator g) {
        if (c.sampleChars() == 0) {
            return "";
        }
        model.eval();
        int v = corpus.vocabSize();
        int prev = corpus.idOf('\n') >= 0 ? corpus.idOf('\n') : corpus.valid()[0];
        int[] out = new int[c.sampleChars()];
        double[] p = new double[v];
        try (var ng = sn.noGrad(); var scope = sn.scope()) {
            Tensor h = null; // [1, 1, H], carried from character to character
            Tensor cell = null;
            for (int i = 0; i < out.length; i++) {
                CharLstm.Output o = model.forward(sn.fromArray(new long[] {prev}, 1, 1), h, cell);
                double[] logits = o.logits().toDoubleArray(); // [1, 1, V]
                h = o.h();
                cell = o.c();
                double max = Double.NEGATIVE_INFINITY;
                for (double l : logits) {
                    max = Math.max(max, l);
                }
                double total = 0;
                for (int k = 0; k < v; k++) {
                    p[k] = Math.exp((logits[k] - max) / c.temperature());
                    total += p[k];
                }
                double u = g.nextDouble() * total;
                int pick = v - 1;
                for (int k = 0; k < v; k++) {
                    u -= p[k];
                    if (u < 0) {
                        pick = k;
                        break;
                    }
                }
                out[i] = pick;
                prev = pick;
            }
        }
        return corpus.decode(out, 0, out.length);
    }

    /** Saves this workload's checkpoints: a {@link CheckpointWriter} and the save interval. */
    public record CharLstmCheckpointWriter(CheckpointWriter writer, int every) {
        void save(long step, TrainingState state, Saved saved) {
            try {
                writer.save(step, state, Map.of(KEY, saved.encode()));
            } catch (IOException e) {
                throw new IllegalStateException("checkpoint: could not save step " + step + " in " + writer.dir() + ": "
                        + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
            }
        }

        /** Going on from an earlier checkpoint of the folder being saved into makes it the latest again. */
        void rewindIfOwn(Checkpoint resume) throws IOException {
            if (writer.dir().equals(resume.folder().toAbsolutePath().normalize().getParent())) {
                writer.rewind(resume.folder());
            }
        }
    }

    /**
     * What a checkpoint of this workload holds beside the training state (under {@link #KEY}, one JSON
     * string): the settings, the text's fingerprint, the finished epochs and the running sums of the
     * epoch in progress. The data position is the {@code data} generator's state, saved with the others.
     */
    public record Saved(CharLstmConfig config, String backend, int threads, String data, long crc, String vocab,
            List<Epoch> history, int progressEpoch, Trainer.EpochProgress progress, double seconds) {
        public Saved {
            history = List.copyOf(history);
        }

        Saved(CharLstmConfig config, String backend, int threads, CharCorpus corpus, List<Epoch> history,
                int progressEpoch, Trainer.EpochProgress progress, double seconds) {
            this(config, backend, threads, corpus.tag(), corpus.crc(), corpus.vocab(), history, progressEpoch, progress,
                    seconds);
        }

        String encode() {
            JsonObject o = new JsonObject();
            JsonObject c = new JsonObject();
            c.addProperty("model", "charlstm");
            c.addProperty("epochs", config.epochs());
            c.addProperty("batch", config.batch());
            c.addProperty("seq", config.seq());
            c.addProperty("hidden", config.hidden());
            c.addProperty("embed", config.embed());
            c.addProperty("lr", config.lr());
            c.addProperty("optimizer", config.optimizer().cliName());
            c.addProperty("seed", config.seed());
            c.addProperty("clip", config.clip());
            c.addProperty("temperature", config.temperature());
            c.addProperty("sample_chars", config.sampleChars());
            o.add("config", c);
            o.addProperty("backend", backend);
            o.addProperty("threads", threads);
            o.addProperty("data", data);
            o.addProperty("text_crc32c", String.format(Locale.ROOT, "%08x", crc));
            o.addProperty("vocab", vocab);
            JsonArray h = new JsonArray();
            for (Epoch e : history) {
                JsonObject x = new JsonObject();
                x.addProperty("epoch", e.epoch());
                x.addProperty("train_loss", e.trainLoss());
                x.addProperty("train_accuracy", e.trainAccuracy());
                x.addProperty("val_loss", e.valLoss());
                x.addProperty("sequences", e.sequences());
                x.addProperty("chars", e.chars());
                x.addProperty("train_seconds", e.trainSeconds());
                x.addProperty("eval_seconds", e.evalSeconds());
                h.add(x);
            }
            o.add("history", h);
            JsonObject p = new JsonObject();
            p.addProperty("epoch", progressEpoch);
            p.addProperty("loss_sum", progress.lossSum());
            p.addProperty("correct", progress.correct());
            p.addProperty("sequences", progress.samples());
            p.addProperty("steps", progress.steps());
            p.addProperty("seconds", progress.seconds());
            o.add("progress", p);
            o.addProperty("seconds", seconds);
            Gson gson = new GsonBuilder().disableHtmlEscaping().serializeSpecialFloatingPointValues().create();
            return gson.toJson(o);
        }

        /**
         * The record in {@code ck}.
         *
         * @throws CheckpointFormatException if {@code ck} holds none or it is malformed
         */
        public static Saved decode(Checkpoint ck) throws CheckpointFormatException {
            String json = ck.extra().get(KEY);
            if (json == null) {
                throw new CheckpointFormatException(ck.folder(), "is not a checkpoint of 'sinew train --model charlstm'"
                        + " (no '" + KEY + "' entry)");
            }
            Object where = ck.folder().resolve(Checkpoint.STATE_FILE);
            try {
                JsonObject o = JsonParser.parseString(json).getAsJsonObject();
                JsonObject c = o.getAsJsonObject("config");
                CharLstmConfig config = new CharLstmConfig(c.get("epochs").getAsInt(), c.get("batch").getAsInt(),
                        c.get("seq").getAsInt(), c.get("hidden").getAsInt(), c.get("embed").getAsInt(),
                        c.get("lr").getAsDouble(), OptimizerKind.parse(c.get("optimizer").getAsString()),
                        c.get("seed").getAsLong(), c.get("clip").getAsDouble(), c.get("temperature").getAsDouble(),
                        c.get("sample_chars").getAsInt());
                List<Epoch> history = new ArrayList<>();
                for (JsonElement el : o.getAsJsonArray("history")) {
                    JsonObject x = el.getAsJsonObject();
                    history.add(new Epoch(x.get("epoch").getAsInt(), x.get("train_loss").getAsDouble(),
                            x.get("train_accuracy").getAsDouble(), x.get("val_loss").getAsDouble(),
                            x.get("sequences").getAsLong(), x.get("chars").getAsLong(),
                            x.get("train_seconds").getAsDouble(), x.get("eval_seconds").getAsDouble()));
                }
                JsonObject p = o.getAsJsonObject("progress");
                Trainer.EpochProgress progress = new Trainer.EpochProgress(p.get("loss_sum").getAsDouble(),
                        p.get("correct").getAsLong(), p.get("sequences").getAsInt(), p.get("steps").getAsInt(),
                        p.get("seconds").getAsDouble());
                return new Saved(config, o.get("backend").getAsString(), o.get("threads").getAsInt(),
                        o.get("data").getAsString(), Long.parseLong(o.get("text_crc32c").getAsString(), 16),
                        o.get("vocab").getAsString(), history, p.get("epoch").getAsInt(), progress,
                        o.get("seconds").getAsDouble());
            } catch (JsonParseException | IllegalStateException | UnsupportedOperationException | NullPointerException
                    | NumberFormatException | ClassCastException e) {
                throw new CheckpointFormatException(where, "the '" + KEY + "' entry is malformed: " + e.getMessage());
            } catch (IllegalArgumentException e) {
                throw new CheckpointFormatException(where, "the '" + KEY + "' entry holds bad settings: " + e.getMessage());
            }
        }
    }
}
