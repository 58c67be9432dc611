package dev.sinew.bench;

import static dev.sinew.bench.MainTest.assertOneLineError;
import static dev.sinew.bench.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.sinew.bench.train.CharCorpus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The LeNet-5 and char-LSTM workloads of {@code sinew train} on tiny data: JSON line, default and
 * explicit batch, the bundled data, checkpoints and exact resume of the char-LSTM, and bad options.
 */
class WorkloadsTest {
    @TempDir
    Path tmp;

    private static JsonObject json(MainTest.Result r) {
        List<String> lines = r.outLines();
        return JsonParser.parseString(lines.get(lines.size() - 1)).getAsJsonObject();
    }

    /** A tiny, very regular text: a char model learns it within a few dozen steps. */
    private Path tinyText() throws IOException {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 60; i++) {
            b.append(i % 2 == 0 ? "the cat sat on the mat.\n" : "a dog lay on the log!\n");
        }
        Path f = tmp.resolve("tiny.txt");
        Files.writeString(f, b, StandardCharsets.UTF_8);
        return f;
    }

    private String[] charArgs(Path text, String... more) {
        // defaults for the tiny runs; an option in `more` replaces its default
        String[] base = {"--seq", "12", "--batch", "4", "--hidden", "16", "--embed", "8", "--lr", "0.01",
                "--backend", "reference", "--threads", "1", "--sample-chars", "40"};
        List<String> given = Arrays.asList(more);
        List<String> a = new ArrayList<>(List.of("train", "--model", "charlstm", "--text", text.toString(),
                "--no-progress", "--json"));
        for (int i = 0; i < base.length; i += 2) {
            if (!given.contains(base[i])) {
                a.add(base[i]);
                a.add(base[i + 1]);
            }
        }
        a.addAll(given);
        return a.toArray(String[]::new);
    }

    @Test
    void lenetTrainsOnSyntheticDataWithItsDefaultBatch() throws IOException {
        Path data = MainTest.syntheticData(tmp.resolve("data"), 80, 24);
        MainTest.Result r = run("train", "--model", "lenet", "--epochs", "2", "--backend", "reference", "--threads", "1",
                "--data", data.toString(), "--json", "--seed", "2");
        assertEquals(0, r.code(), () -> "stderr: " + r.err());
        assertTrue(r.out().contains("model: LeNet-5"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("epoch 2/2: train loss ")), r.out());
        JsonObject o = json(r);
        assertEquals("lenet", o.get("model").getAsString());
        assertEquals(64, o.get("batch").getAsInt(), "lenet's default batch");
        assertEquals(80, o.get("train_samples").getAsInt());
        double acc = o.get("test_accuracy").getAsDouble();
        assertTrue(acc >= 0 && acc <= 1, "accuracy " + acc);
        assertTrue(r.err().contains("epoch 1/2"), "progress bar on stderr");

        MainTest.Result b = run("train", "--model", "lenet", "--epochs", "1", "--batch", "16", "--backend", "reference",
                "--data", data.toString(), "--json", "--no-progress");
        assertEquals(0, b.code(), b::err);
        assertEquals(16, json(b).get("batch").getAsInt(), "an explicit --batch wins");
        MainTest.Result m = run("train", "--model", "tiny-mlp", "--epochs", "1", "--backend", "reference",
                "--data", data.toString(), "--json", "--no-progress");
        assertEquals(128, json(m).get("batch").getAsInt(), "the MLPs keep 128");
    }

    @Test
    void lenetRunsAFewStepsOnTheBundledData() {
        Path bundled = Path.of("..", "data", "fashion-mnist").toAbsolutePath().normalize();
        MainTest.Result r = run("train", "--model", "lenet", "--epochs", "1", "--max-steps", "3", "--backend",
                "reference", "--data", bundled.toString(), "--json", "--no-progress", "--print-losses");
        assertEquals(0, r.code(), () -> "stderr: " + r.err());
        assertEquals(3, CheckpointResumeTest.losses(r.out()).size(), r.out());
        JsonObject o = json(r);
        assertEquals("explicit-test-split", o.get("data").getAsString());
        assertEquals(3 * 64, o.get("train_samples").getAsInt());
        assertEquals(2000, o.get("test_samples").getAsInt());
    }

    @Test
    void charLstmLearnsATinyTextAndReportsJson() throws IOException {
        Path text = tinyText();
        MainTest.Result r = run(charArgs(text, "--epochs", "3", "--print-losses"));
        assertEquals(0, r.code(), () -> "stderr: " + r.err());
        assertTrue(r.out().contains("vocabulary of "), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("epoch 3/3: train loss ") && l.contains("val loss")), r.out());
        assertTrue(r.out().contains("sample (temperature 0.8):"), r.out());
        JsonObject o = json(r);
        assertEquals("charlstm", o.get("model").getAsString());
        assertEquals("reference", o.get("backend").getAsString());
        assertEquals(3, o.get("epochs").getAsInt());
        assertEquals(4, o.get("batch").getAsInt());
        assertEquals("explicit", o.get("data").getAsString());
        int steps = o.get("steps_per_epoch").getAsInt();
        int trainChars = o.get("train_chars").getAsInt();
        assertEquals(Math.round(0.9 * Files.readString(text).length()), trainChars);
        assertEquals(trainChars / (4 * 12), steps);
        double train = o.get("train_loss").getAsDouble();
        double val = o.get("val_loss").getAsDouble();
        double uniform = Math.log(o.get("vocab").getAsInt());
        assertTrue(train < 0.8 * uniform && val < 0.8 * uniform, "learns: train " + train + ", val " + val
                + ", uniform " + uniform);
        assertTrue(o.get("chars_per_sec").getAsDouble() > 0 && o.get("samples_per_sec").getAsDouble() > 0);
        assertEquals(12 * o.get("samples_per_sec").getAsDouble(), o.get("chars_per_sec").getAsDouble(), 1e-6
                * o.get("chars_per_sec").getAsDouble());
        assertTrue(o.get("seconds").getAsDouble() > 0);
        assertEquals(3L * steps, CheckpointResumeTest.losses(r.out()).size());
        // The sample is 40 characters of the vocabulary, printed as "  | " lines.
        String sample = String.join("\n", r.out().lines().dropWhile(l -> !l.startsWith("sample")).skip(1)
                .takeWhile(l -> l.startsWith("  | ")).map(l -> l.substring(4)).toList());
        assertEquals(40, sample.length(), sample);
        assertFalse(r.out().contains("\r"));

        MainTest.Result again = run(charArgs(text, "--epochs", "3", "--print-losses"));
        assertEquals(CheckpointResumeTest.losses(r.out()), CheckpointResumeTest.losses(again.out()), "seeded: same losses");
    }

    @Test
    void charLstmResumesExactlyFromAMidEpochCheckpoint() throws IOException {
        Path text = tinyText();
        Path all = tmp.resolve("all");
        MainTest.Result full = run(charArgs(text, "--epochs", "2", "--print-losses", "--checkpoint", all.toString(),
                "--every", "7", "--keep", "10"));
        assertEquals(0, full.code(), full::err);
        Map<Long, String> want = CheckpointResumeTest.losses(full.out());
        Path mid = all.resolve("ckpt-00000007");
        assertTrue(Files.isDirectory(mid), "checkpoints: " + full.out());
        MainTest.Result resumed = run("train", "--resume", mid.toString(), "--backend", "reference", "--threads", "1",
                "--text", text.toString(), "--no-progress", "--print-losses", "--json");
        assertEquals(0, resumed.code(), resumed::err);
        Map<Long, String> got = CheckpointResumeTest.losses(resumed.out());
        assertFalse(got.isEmpty());
        for (var e : got.entrySet()) {
            assertEquals(want.get(e.getKey()), e.getValue(), "step " + e.getKey());
        }
        assertEquals(want.size() - 7, got.size());
        assertEquals(json(full).get("val_loss").getAsDouble(), json(resumed).get("val_loss").getAsDouble(), 0.0);
        assertEquals(json(full).get("train_loss").getAsDouble(), json(resumed).get("train_loss").getAsDouble(), 0.0);
        // The samples after each epoch are the same too.
        assertEquals(full.out().lines().filter(l -> l.startsWith("  | ")).toList().subList(
                        full.out().lines().filter(l -> l.startsWith("  | ")).toList().size()
                                - resumed.out().lines().filter(l -> l.startsWith("  | ")).toList().size(),
                        full.out().lines().filter(l -> l.startsWith("  | ")).toList().size()),
                resumed.out().lines().filter(l -> l.startsWith("  | ")).toList());

        assertOneLineError(run("train", "--resume", mid.toString(), "--seq", "13", "--text", text.toString()), 2,
                "--seq 13 (checkpoint: 12)");
        assertOneLineError(run("train", "--resume", mid.toString(), "--model", "mlp"), 2, "--model mlp");
        Path other = tmp.resolve("other.txt");
        Files.writeString(other, "something else entirely, with other letters: xyzzy quux.\n".repeat(20));
        assertOneLineError(run("train", "--resume", mid.toString(), "--text", other.toString(), "--backend",
                "reference"), 2, "trained on another text");
    }

    @Test
    void badOptionsAreOneLineErrors() throws IOException {
        Path text = tinyText();
        assertOneLineError(run(charArgs(text, "--seq", "0")), 2, "--seq must be at least 1, got 0");
        assertOneLineError(run(charArgs(text, "--hidden", "-1")), 2, "--hidden must be at least 1");
        assertOneLineError(run(charArgs(text, "--temperature", "0")), 2, "--temperature must be a positive");
        assertOneLineError(run(charArgs(text, "--clip", "-1")), 2, "--clip");
        assertOneLineError(run(charArgs(text, "--batch", "0")), 2, "--batch must be at least 1");
        assertOneLineError(run(charArgs(text, "--seq", "5000")), 2, "--seq 5000 needs at least 5001");
        assertOneLineError(run(charArgs(tmp.resolve("missing.txt"))), 2, "missing.txt: no such file");
        assertOneLineError(run("train", "--model", "charlstm", "--data", tmp.toString()), 2, "--data", "--text");
        assertOneLineError(run("train", "--model", "mlp", "--text", text.toString()), 2,
                "--text is an option of --model charlstm only");
        assertOneLineError(run("train", "--model", "lenet", "--seq", "8"), 2, "--seq is an option of --model charlstm");
        assertOneLineError(run("train", "--model", "lenet", "--max-steps", "0"), 2, "--max-steps must be at least 1");
        assertOneLineError(run("train", "--model", "charlstm", "--max-steps", "2", "--checkpoint",
                tmp.resolve("c").toString()), 2, "--max-steps cannot be combined");
        Path binary = tmp.resolve("binary.txt");
        Files.write(binary, new byte[] {(byte) 0xC3, (byte) 0x28, 65, 66, 67});
        assertOneLineError(run(charArgs(binary)), 2, "is not UTF-8 text");
        Path shortText = tmp.resolve("short.txt");
        Files.writeString(shortText, "abc");
        assertOneLineError(run(charArgs(shortText)), 2, "at least 20");
    }

    @Test
    void theBundledCorpusAndTheVocabularyRules() throws IOException {
        String before = System.getProperty("sinew.home");
        CharCorpus kjv;
        try {
            System.setProperty("sinew.home", Path.of("..").toAbsolutePath().normalize().toString());
            kjv = CharCorpus.load(null);
        } finally {
            if (before == null) {
                System.clearProperty("sinew.home");
            } else {
                System.setProperty("sinew.home", before);
            }
        }
        assertEquals("bundled", kjv.tag());
        assertEquals(72, kjv.vocabSize(), kjv.vocab());
        assertEquals(1_928_684, kjv.train().length + kjv.valid().length);
        assertEquals(Math.round(0.9 * 1_928_684), kjv.train().length);
        assertTrue(kjv.decode(kjv.train(), 0, 24).startsWith("Genesis 1\n\n1 In the beg"), kjv.decode(kjv.train(), 0, 24));

        // Typographic punctuation, accents, CR LF and tabs become plain; a 97th character and beyond map to U+FFFD.
        CharCorpus c = CharCorpus.fromText("\u201CCaf\u00E9\u201D \u2014 na\u00EFve\ttext\r\nline two\u2026", "t", "");
        assertEquals("\"Cafe\" - naive text\nline two...", c.decode(c.train(), 0, c.train().length)
                + c.decode(c.valid(), 0, c.valid().length));
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 120; i++) {
            many.append(Character.toString(0x4E00 + i).repeat(120 - i)); // 120 distinct CJK characters
        }
        CharCorpus capped = CharCorpus.fromText(many.toString(), "t", "");
        assertEquals(CharCorpus.MAX_VOCAB, capped.vocabSize());
        assertTrue(capped.vocab().indexOf(CharCorpus.UNKNOWN) >= 0);
        assertTrue(capped.vocab().indexOf(0x4E00) >= 0, "the most frequent are kept");
        assertTrue(capped.vocab().indexOf(0x4E00 + 119) < 0, "the rarest map to U+FFFD");
    }
}
