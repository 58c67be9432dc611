package dev.sinew.bench.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.sinew.data.ArrayDataset;
import dev.sinew.io.Checkpoint;
import dev.sinew.io.CheckpointFormatException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32C;

/**
 * What {@code sinew train} stores in a checkpoint beside the training state itself (under the extra
 * key {@value #KEY}, as one JSON string): the run's settings, which data it trained on, the figures of
 * the epochs already finished, and the running sums of the epoch in progress, so that a resumed run
 * continues with the same settings and reports the same epoch figures as one never interrupted.
 *
 * <p>Doubles are written in Java's shortest round-trip form, so they read back bit for bit.
 *
 * @param config        the run's settings
 * @param backend       the backend it ran on
 * @param threads       the backend's thread count
 * @param dataTag       {@link dev.sinew.data.FashionMnist#tag()} of its data
 * @param trainSamples  training samples
 * @param labelsCrc     CRC-32C of the training labels (a cheap fingerprint of the data)
 * @param history       the finished epochs' figures
 * @param progressEpoch the epoch the sums in {@code progress} belong to
 * @param progress      that epoch's running sums
 * @param seconds       wall time of the run so far (training and evaluation)
 */
public record TrainCheckpoint(TrainConfig config, String backend, int threads, String dataTag, int trainSamples,
        long labelsCrc, List<EpochStats> history, int progressEpoch, Trainer.EpochProgress progress, double seconds) {
    /** The key in {@link Checkpoint#extra()}. */
    public static final String KEY = "sinew.train";

    public TrainCheckpoint {
        history = List.copyOf(history);
    }

    /** Whether epoch {@code epoch} is among the finished ones. */
    public boolean finished(int epoch) {
        return history.stream().anyMatch(e -> e.epoch() == epoch);
    }

    /** The CRC-32C of {@code d}'s labels in order. */
    public static long labelsCrc(ArrayDataset d) {
        CRC32C crc = new CRC32C();
        byte[] b = new byte[8];
        for (int i = 0; i < d.size(); i++) {
            long v = d.label(i);
            for (int k = 0; k < 8; k++) {
                b[k] = (byte) (v >>> (8 * k));
            }
            crc.update(b);
        }
        return crc.getValue();
    }

    /** This record as the JSON string stored under {@link #KEY}. */
    public String encode() {
        JsonObject o = new JsonObject();
        JsonObject c = new JsonObject();
        c.addProperty("model", config.model());
        c.addProperty("epochs", config.epochs());
        c.addProperty("batch", config.batch());
        c.addProperty("lr", config.lr());
        c.addProperty("optimizer", config.optimizer().cliName());
        c.addProperty("seed", config.seed());
        c.addProperty("eval_batch", config.evalBatch());
        o.add("config", c);
        o.addProperty("backend", backend);
        o.addProperty("threads", threads);
        o.addProperty("data", dataTag);
        o.addProperty("train_samples", trainSamples);
        o.addProperty("labels_crc32c", String.format(Locale.ROOT, "%08x", labelsCrc));
        JsonArray h = new JsonArray();
        for (EpochStats e : history) {
            JsonObject x = new JsonObject();
            x.addProperty("epoch", e.epoch());
            x.addProperty("train_loss", e.trainLoss());
            x.addProperty("train_accuracy", e.trainAccuracy());
            x.addProperty("test_loss", e.testLoss());
            x.addProperty("test_accuracy", e.testAccuracy());
            x.addProperty("train_samples", e.trainSamples());
            x.addProperty("train_seconds", e.trainSeconds());
            x.addProperty("eval_seconds", e.evalSeconds());
            h.add(x);
        }
        o.add("history", h);
        JsonObject p = new JsonObject();
        p.addProperty("epoch", progressEpoch);
        p.addProperty("loss_sum", progress.lossSum());
        p.addProperty("correct", progress.correct());
        p.addProperty("samples", progress.samples());
        p.addProperty("steps", progress.steps());
        p.addProperty("seconds", progress.seconds());
        o.add("progress", p);
        o.addProperty("seconds", seconds);
        Gson gson = new GsonBuilder().disableHtmlEscaping().serializeSpecialFloatingPointValues().create();
        return gson.toJson(o);
    }

    /**
     * The record stored in {@code ck}.
     *
     * @throws CheckpointFormatException if {@code ck} was not written by {@code sinew train} or the
     *                                   record is malformed
     */
    public static TrainCheckpoint decode(Checkpoint ck) throws CheckpointFormatException {
        String json = ck.extra().get(KEY);
        Object where = ck.folder().resolve(Checkpoint.STATE_FILE);
        if (json == null) {
            throw new CheckpointFormatException(ck.folder(), "was not written by 'sinew train' (no '" + KEY
                    + "' entry), so it cannot be resumed by it");
        }
        try {
            JsonObject o = JsonParser.parseString(json).getAsJsonObject();
            JsonObject c = o.getAsJsonObject("config");
            TrainConfig config = new TrainConfig(c.get("model").getAsString(), c.get("epochs").getAsInt(),
                    c.get("batch").getAsInt(), c.get("lr").getAsDouble(),
                    OptimizerKind.parse(c.get("optimizer").getAsString()), c.get("seed").getAsLong(),
                    c.get("eval_batch").getAsInt());
            List<EpochStats> history = new ArrayList<>();
            for (JsonElement el : o.getAsJsonArray("history")) {
                JsonObject x = el.getAsJsonObject();
                history.add(new EpochStats(x.get("epoch").getAsInt(), x.get("train_loss").getAsDouble(),
                        x.get("train_accuracy").getAsDouble(), x.get("test_loss").getAsDouble(),
                        x.get("test_accuracy").getAsDouble(), x.get("train_samples").getAsInt(),
                        x.get("train_seconds").getAsDouble(), x.get("eval_seconds").getAsDouble()));
            }
            JsonObject p = o.getAsJsonObject("progress");
            Trainer.EpochProgress progress = new Trainer.EpochProgress(p.get("loss_sum").getAsDouble(),
                    p.get("correct").getAsLong(), p.get("samples").getAsInt(), p.get("steps").getAsInt(),
                    p.get("seconds").getAsDouble());
            return new TrainCheckpoint(config, o.get("backend").getAsString(), o.get("threads").getAsInt(),
                    o.get("data").getAsString(), o.get("train_samples").getAsInt(),
                    Long.parseLong(o.get("labels_crc32c").getAsString(), 16), history, p.get("epoch").getAsInt(),
                    progress, o.get("seconds").getAsDouble());
        } catch (JsonParseException | IllegalStateException | UnsupportedOperationException | NullPointerException
                | NumberFormatException | ClassCastException e) {
            throw new CheckpointFormatException(where, "the '" + KEY + "' entry is malformed: " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new CheckpointFormatException(where, "the '" + KEY + "' entry holds bad settings: " + e.getMessage());
        }
    }
}
