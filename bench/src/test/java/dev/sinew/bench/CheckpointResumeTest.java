package dev.sinew.bench;

import static dev.sinew.bench.MainTest.assertOneLineError;
import static dev.sinew.bench.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.sinew.Sinew;
import dev.sinew.io.Checkpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sinew train --checkpoint/--resume} in process: a run resumed from any of its checkpoints
 * prints the same per-step losses (bit for bit), epoch figures and final result as the run never
 * interrupted; options are checked; errors are one line.
 */
class CheckpointResumeTest {
    @TempDir
    Path tmp;

    private Path data;

    /** 44 training samples in batches of 8: 6 steps per epoch, the last one of 4. */
    @BeforeEach
    void makeData() throws IOException {
        data = MainTest.syntheticData(tmp.resolve("data"), 44, 12);
    }

    private String[] args(String backend, int threads, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--model", "tiny-mlp", "--batch", "8",
                "--seed", "7", "--backend", backend, "--threads", Integer.toString(threads), "--data", data.toString(),
                "--no-progress", "--print-losses", "--json"));
        if (!Arrays.asList(more).contains("--epochs")) {
            a.addAll(List.of("--epochs", "3"));
        }
        a.addAll(Arrays.asList(more));
        return a.toArray(String[]::new);
    }

    /** Global step → the loss printed for it (as Java prints the double: equal strings are equal bits). */
    static Map<Long, String> losses(String out) {
        Map<Long, String> m = new LinkedHashMap<>();
        for (String line : out.lines().toList()) {
            String[] w = line.split(" ");
            if (w.length == 6 && w[0].equals("step") && w[2].equals("epoch") && w[4].equals("loss")) {
                m.put(Long.parseLong(w[1]), w[5]);
            }
        }
        return m;
    }

    /** The epoch lines without their timings: {@code epoch 2/3: train loss …, test acc …}. */
    private static List<String> epochFigures(String out) {
        return out.lines().filter(l -> l.startsWith("epoch ")).map(l -> l.substring(0, l.lastIndexOf(", test acc") + 17))
                .toList();
    }

    private static JsonObject json(MainTest.Result r) {
        List<String> lines = r.outLines();
        return JsonParser.parseString(lines.get(lines.size() - 1)).getAsJsonObject();
    }

    private void resumesExactlyFromEveryCheckpoint(String backend, int threads) throws IOException {
        Path all = tmp.resolve("all-" + backend);
        MainTest.Result full = run(args(backend, threads, "--checkpoint", all.toString(), "--every", "2", "--keep", "100"));
        assertEquals(0, full.code(), full.err());
        Map<Long, String> expected = losses(full.out());
        assertEquals(18, expected.size());
        List<Path> cks = Checkpoint.list(all);
        assertEquals(9, cks.size(), "steps 2, 4, ..., 18");
        List<String> figures = epochFigures(full.out());
        assertEquals(3, figures.size());
        for (Path ck : cks) {
            long step = Checkpoint.read(ck).step();
            MainTest.Result r = run(args(backend, threads, "--resume", ck.toString()));
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("resumed: " + ck + ", step " + step), r.out());
            Map<Long, String> got = losses(r.out());
            Map<Long, String> want = new LinkedHashMap<>(expected);
            want.keySet().removeIf(s -> s <= step);
            assertEquals(want, got, "losses after resuming at step " + step);
            // Epoch figures (incl. the epoch the resume happened in) and the final result are the same too.
            List<String> rf = epochFigures(r.out());
            assertEquals(figures.subList(figures.size() - rf.size(), figures.size()), rf, "epoch lines after step " + step);
            assertEquals(json(full).get("train_loss"), json(r).get("train_loss"));
            assertEquals(json(full).get("test_accuracy"), json(r).get("test_accuracy"));
        }
    }

    @Test
    void aResumedRunPrintsTheSameLossesAsAnUninterruptedOneOnTheReferenceBackend() throws IOException {
        resumesExactlyFromEveryCheckpoint("reference", 1);
    }

    /** The CPU backend with a fixed thread count, where it is built and usable. */
    @Test
    void aResumedRunPrintsTheSameLossesAsAnUninterruptedOneOnTheCpuBackend() throws IOException {
        boolean cpu = Sinew.providers().stream().anyMatch(p -> p.name().equals("cpu") && p.availability().available());
        Assumptions.assumeTrue(cpu, "the cpu backend is not available here");
        resumesExactlyFromEveryCheckpoint("cpu", 2);
    }

    @Test
    void aResumedRunThatGoesOnSavingWritesTheSameCheckpoints() throws IOException {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        MainTest.Result full = run(args("reference", 1, "--checkpoint", a.toString(), "--every", "4", "--keep", "10"));
        assertEquals(0, full.code(), full.err());
        MainTest.Result part = run(args("reference", 1, "--resume", a.resolve("ckpt-00000008").toString(),
                "--checkpoint", b.toString(), "--every", "4"));
        assertEquals(0, part.code(), part.err());
        assertTrue(part.out().contains("checkpoint: " + b.toAbsolutePath().resolve("ckpt-00000018")), part.out());
        for (String f : List.of(Checkpoint.MODEL_FILE, Checkpoint.OPTIM_FILE)) {
            assertArrayEquals(Files.readAllBytes(a.resolve("ckpt-00000018").resolve(f)),
                    Files.readAllBytes(b.resolve("ckpt-00000018").resolve(f)), f);
        }
        assertEquals(List.of("ckpt-00000018"), Checkpoint.list(b).stream().map(p -> p.getFileName().toString()).toList());
        // Going back to an earlier checkpoint of the folder it saves into: the newer ones are dropped,
        // then written again, the same.
        byte[] finalModel = Files.readAllBytes(a.resolve("ckpt-00000018").resolve(Checkpoint.MODEL_FILE));
        MainTest.Result again = run(args("reference", 1, "--resume", a.resolve("ckpt-00000004").toString(),
                "--checkpoint", a.toString(), "--every", "4", "--keep", "10"));
        assertEquals(0, again.code(), again.err());
        assertEquals(List.of("ckpt-00000004", "ckpt-00000008", "ckpt-00000012", "ckpt-00000016", "ckpt-00000018"),
                Checkpoint.list(a).stream().map(p -> p.getFileName().toString()).toList());
        assertArrayEquals(finalModel, Files.readAllBytes(a.resolve("ckpt-00000018").resolve(Checkpoint.MODEL_FILE)));
        assertEquals(losses(full.out()).get(18L), losses(again.out()).get(18L));
    }

    @Test
    void byDefaultACheckpointIsSavedAtEachEpochEndAndMoreEpochsCanFollow() throws IOException {
        Path c = tmp.resolve("c");
        MainTest.Result r = run(args("reference", 1, "--checkpoint", c.toString(), "--keep", "5"));
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of("ckpt-00000006", "ckpt-00000012", "ckpt-00000018"),
                Checkpoint.list(c).stream().map(p -> p.getFileName().toString()).toList());
        // A finished run resumed as it is has nothing left to do.
        MainTest.Result same = run(args("reference", 1, "--resume", c.toString()));
        assertEquals(0, same.code(), same.err());
        assertTrue(losses(same.out()).isEmpty(), same.out());
        assertEquals(json(r).get("train_loss"), json(same).get("train_loss"));
        // More epochs: the same as a 4-epoch run from the start.
        MainTest.Result four = run(args("reference", 1, "--epochs", "4"));
        MainTest.Result more = run(args("reference", 1, "--resume", c.toString(), "--checkpoint", c.toString(),
                "--epochs", "4"));
        assertEquals(0, more.code(), more.err());
        Map<Long, String> want = new LinkedHashMap<>(losses(four.out()));
        want.keySet().removeIf(s -> s <= 18);
        assertEquals(want, losses(more.out()));
        assertEquals(24, Checkpoint.read(c).step());
    }

    @Test
    void badCombinationsAreOneLineUsageErrors() throws IOException {
        Path c = tmp.resolve("c");
        assertEquals(0, run(args("reference", 1, "--checkpoint", c.toString(), "--epochs", "1")).code());
        assertOneLineError(run(args("reference", 1, "--every", "2")), 2, "--every needs --checkpoint DIR");
        assertOneLineError(run(args("reference", 1, "--keep", "2")), 2, "--keep needs --checkpoint DIR");
        assertOneLineError(run(args("reference", 1, "--checkpoint", tmp.resolve("x").toString(), "--every", "0")), 2,
                "--every must be at least 1");
        assertOneLineError(run(args("reference", 1, "--checkpoint", c.toString())), 2, "already holds checkpoints",
                "--resume");
        assertOneLineError(run("train", "--resume", c.toString(), "--data", data.toString(), "--backend", "reference",
                "--no-progress", "--batch", "16", "--lr", "0.5", "--model", "TINY-MLP"), 2,
                "--batch 16 (checkpoint: 8)", "--lr 0.5 (checkpoint: 0.001)", "only --epochs may change");
        Files.createDirectories(tmp.resolve("empty"));
        assertOneLineError(run(args("reference", 1, "--resume", tmp.resolve("empty").toString())), 2,
                "holds no checkpoint");
        // Other data of the same size: refused by the labels' fingerprint.
        Path other = MainTest.syntheticData(tmp.resolve("other"), 44, 12);
        Files.delete(other.resolve("train-labels-idx1-ubyte.gz"));
        byte[] labels = new byte[44];
        dev.sinew.data.Idx.write(other.resolve("train-labels-idx1-ubyte.gz"), dev.sinew.data.Idx.Type.UBYTE,
                new int[] {44}, labels, true);
        List<String> a = new ArrayList<>(Arrays.asList(args("reference", 1, "--resume", c.toString())));
        a.set(a.indexOf(data.toString()), other.toString());
        assertOneLineError(run(a.toArray(String[]::new)), 2, "trained on other data");
        // A damaged checkpoint.
        Path model = Checkpoint.read(c).modelFile();
        byte[] b = Files.readAllBytes(model);
        b[b.length - 1] ^= 0x40;
        Files.write(model, b);
        assertOneLineError(run(args("reference", 1, "--resume", c.toString())), 2, "checksum mismatch");
        // A folder some other run is writing into.
        try (var _ = dev.sinew.io.CheckpointWriter.open(tmp.resolve("busy"), 1)) {
            assertOneLineError(run(args("reference", 1, "--checkpoint", tmp.resolve("busy").toString())), 2,
                    "in use by another run");
        }
        try (Stream<Path> s = Files.list(tmp.resolve("x"))) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith("ckpt-")));
        } catch (java.nio.file.NoSuchFileException e) {
            // not created at all: fine too
        }
    }
}
