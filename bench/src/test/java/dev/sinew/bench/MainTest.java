package dev.sinew.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.sinew.data.Idx;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {
        List<String> outLines() {
            return out.lines().toList();
        }

        List<String> errLines() {
            return err.lines().filter(l -> !l.isBlank()).toList();
        }
    }

    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Main.run(o, e, args);
        }
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Writes a small learnable Fashion-MNIST look-alike: class c lights up row band c. */
    static Path syntheticData(Path dir, int train, int test) throws IOException {
        Files.createDirectories(dir);
        Random r = new Random(5);
        for (String split : new String[] {"train", "t10k"}) {
            int n = split.equals("train") ? train : test;
            byte[] px = new byte[n * 784];
            byte[] lb = new byte[n];
            for (int i = 0; i < n; i++) {
                int c = r.nextInt(10);
                lb[i] = (byte) c;
                for (int p = 0; p < 784; p++) {
                    int row = p / 28;
                    int v = row / 2 == c ? 200 + r.nextInt(50) : r.nextInt(40);
                    px[i * 784 + p] = (byte) v;
                }
            }
            Idx.write(dir.resolve(split + "-images-idx3-ubyte.gz"), Idx.Type.UBYTE, new int[] {n, 28, 28}, px, true);
            Idx.write(dir.resolve(split + "-labels-idx1-ubyte.gz"), Idx.Type.UBYTE, new int[] {n}, lb, true);
        }
        return dir;
    }

    /** The error contract: exit code, exactly one line on stderr starting "sinew: ", no stack trace. */
    static void assertOneLineError(Result r, int code, String... fragments) {
        assertEquals(code, r.code(), () -> "exit code; stderr: " + r.err());
        List<String> lines = r.errLines();
        assertEquals(1, lines.size(), () -> "exactly one line on stderr, got: " + r.err());
        String line = lines.get(0);
        assertTrue(line.startsWith("sinew: "), line);
        assertFalse(line.contains("\tat ") || line.contains("Exception:"), line);
        for (String f : fragments) {
            assertTrue(line.contains(f), () -> "stderr should mention '" + f + "': " + line);
        }
    }

    @Test
    void trainWritesEpochLinesAndEndsWithJson() throws IOException {
        Path data = syntheticData(tmp.resolve("data"), 96, 40);
        Result r = run("train", "--model", "mlp", "--epochs", "1", "--batch", "32", "--backend", "reference",
                "--data", data.toString(), "--seed", "3", "--json", "--threads", "1");
        assertEquals(0, r.code(), () -> "stderr: " + r.err());
        List<String> lines = r.outLines();
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("data: Fashion-MNIST from " + data)), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("epoch 1/1: train loss ")), r.out());
        JsonObject o = JsonParser.parseString(lines.get(lines.size() - 1)).getAsJsonObject();
        assertEquals("mlp", o.get("model").getAsString());
        assertEquals("reference", o.get("backend").getAsString());
        assertEquals(1, o.get("epochs").getAsInt());
        assertEquals(32, o.get("batch").getAsInt());
        assertEquals("explicit", o.get("data").getAsString());
        assertEquals(96, o.get("train_samples").getAsInt());
        assertEquals(40, o.get("test_samples").getAsInt());
        double acc = o.get("test_accuracy").getAsDouble();
        assertTrue(acc >= 0 && acc <= 1, "accuracy is a fraction: " + acc);
        assertTrue(Double.isFinite(o.get("train_loss").getAsDouble()));
        assertTrue(o.get("samples_per_sec").getAsDouble() > 0);
        assertTrue(o.get("seconds").getAsDouble() > 0);
        // The progress bar went to stderr, never stdout.
        assertTrue(r.err().contains("epoch 1/1"), "progress bar on stderr: " + r.err());
        assertFalse(r.out().contains("\r"), "no progress-bar redraws on stdout");
    }

    @Test
    void testSplitOnlyDataIsSplitAndSaidSo() throws IOException {
        Path data = syntheticData(tmp.resolve("t10k-only"), 1, 50);
        Files.delete(data.resolve("train-images-idx3-ubyte.gz"));
        Files.delete(data.resolve("train-labels-idx1-ubyte.gz"));
        Result r = run("train", "--epochs", "1", "--batch", "16", "--backend", "reference", "--data", data.toString(),
                "--json", "--no-progress", "--optimizer", "sgd", "--lr", "0.05");
        assertEquals(0, r.code(), () -> "stderr: " + r.err());
        assertTrue(r.out().contains("training uses its first 40 images and evaluation its last 10"), r.out());
        List<String> lines = r.outLines();
        JsonObject o = JsonParser.parseString(lines.get(lines.size() - 1)).getAsJsonObject();
        assertEquals("explicit-test-split", o.get("data").getAsString());
        assertEquals("sgd", o.get("optimizer").getAsString());
        assertEquals("", r.err().strip(), "no progress bar with --no-progress");
    }

    @Test
    void everyOptimizerRuns() throws IOException {
        Path data = syntheticData(tmp.resolve("opt"), 32, 10);
        for (String opt : new String[] {"adam", "adamw", "rmsprop", "SGD"}) {
            Result r = run("train", "--epochs", "1", "--batch", "32", "--backend", "reference", "--data",
                    data.toString(), "--no-progress", "--optimizer", opt);
            assertEquals(0, r.code(), () -> opt + ": " + r.err());
        }
    }

    @Test
    void unknownCommandOptionModelBackendAreOneLineErrors() {
        assertOneLineError(run("frobnicate"), 2, "unknown command 'frobnicate'", "train", "info");
        assertOneLineError(run(), 2, "no command given");
        assertOneLineError(run("train", "--frob"), 2, "train: unknown option: '--frob'");
        assertOneLineError(run("train", "--epoch", "1"), 2, "--epoch", "did you mean");
        assertOneLineError(run("train", "--model", "cnn"), 2, "unknown model 'cnn'", "mlp");
        assertOneLineError(run("train", "--optimizer", "lbfgs"), 2, "unknown optimizer 'lbfgs'", "adamw");
        assertOneLineError(run("train", "--backend", "tpu", "--data", tmp.toString()), 2);
    }

    @Test
    void unknownBackendNamesTheAlternatives() throws IOException {
        Path data = syntheticData(tmp.resolve("b"), 8, 8);
        assertOneLineError(run("train", "--backend", "tpu", "--data", data.toString()), 2, "unknown backend 'tpu'",
                "reference");
    }

    @Test
    void badValuesAreOneLineErrors() {
        assertOneLineError(run("train", "--epochs", "abc"), 2, "--epochs", "abc");
        assertOneLineError(run("train", "--epochs", "0"), 2, "--epochs must be at least 1, got 0");
        assertOneLineError(run("train", "--batch", "-4"), 2, "--batch must be at least 1, got -4");
        assertOneLineError(run("train", "--lr", "-1"), 2, "--lr must be a positive finite number");
        assertOneLineError(run("train", "--lr", "NaN"), 2, "--lr");
        assertOneLineError(run("train", "--threads", "-2"), 2, "--threads");
        assertOneLineError(run("train", "--epochs"), 2, "--epochs");
    }

    @Test
    void missingOrTruncatedDataNamesTheFile() throws IOException {
        Path none = tmp.resolve("nowhere");
        assertOneLineError(run("train", "--data", none.toString(), "--backend", "reference"), 2,
                none + ": no such directory");

        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertOneLineError(run("train", "--data", empty.toString()), 2, "t10k-images-idx3-ubyte.gz: no such file");

        Path data = syntheticData(tmp.resolve("cut"), 16, 8);
        Path images = data.resolve("train-images-idx3-ubyte.gz");
        byte[] all = Files.readAllBytes(images);
        Files.write(images, Arrays.copyOf(all, all.length / 2));
        assertOneLineError(run("train", "--data", data.toString()), 2, images.toString(), "truncated");

        Path magic = data.resolve("t10k-labels-idx1-ubyte.gz");
        Files.write(magic, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        assertOneLineError(run("train", "--data", data.toString()), 2, magic.toString(), "bad magic number");
    }

    @Test
    void debugAddsTheStackTrace() {
        Result r = run("train", "--debug", "--data", tmp.resolve("nowhere").toString());
        assertEquals(2, r.code());
        assertTrue(r.errLines().size() > 1, "stack trace with --debug: " + r.err());
        assertTrue(r.err().contains("\tat "), r.err());
    }

    @Test
    void helpAndVersionSucceed() {
        Result h = run("--help");
        assertEquals(0, h.code());
        assertTrue(h.out().contains("train") && h.out().contains("info"), h.out());
        Result th = run("train", "--help");
        assertEquals(0, th.code());
        assertTrue(th.out().contains("--optimizer"), th.out());
        assertEquals(0, run("--version").code());
    }

    @Test
    void infoListsBackendsAndTheDefault() {
        Result r = run("info");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("JDK:"), r.out());
        assertTrue(r.out().contains("processors:"), r.out());
        assertTrue(r.out().contains("vector API:"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.trim().startsWith("reference") && l.contains("priority")), r.out());
        assertTrue(r.out().contains("default:"), r.out());
    }
}
