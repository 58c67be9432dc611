package dev.sinew.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.Generator;
import dev.sinew.Tensor;
import dev.sinew.data.ArrayDataset;
import dev.sinew.data.Batch;
import dev.sinew.data.DataLoader;
import dev.sinew.nn.Dropout;
import dev.sinew.nn.Linear;
import dev.sinew.nn.Losses;
import dev.sinew.nn.ReLU;
import dev.sinew.nn.Sequential;
import dev.sinew.nn.SinewTestBase;
import dev.sinew.optim.Adam;
import dev.sinew.optim.AdamW;
import dev.sinew.optim.LrScheduler;
import dev.sinew.optim.Optimizer;
import dev.sinew.optim.RMSProp;
import dev.sinew.optim.SGD;
import dev.sinew.optim.StepLR;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints: exact resumption, the folder layout and pruning, and one-line errors for damaged folders. */
class CheckpointTest extends SinewTestBase {
    @TempDir
    Path tmp;

    private static final int SAMPLES = 22; // batches of 6: 6, 6, 6, 4
    private static final int STEPS_PER_EPOCH = 4;

    private static ArrayDataset data() {
        Random r = new Random(3);
        float[] x = new float[SAMPLES * 8];
        long[] y = new long[SAMPLES];
        for (int i = 0; i < SAMPLES; i++) {
            y[i] = r.nextInt(3);
            for (int j = 0; j < 8; j++) {
                x[i * 8 + j] = (float) r.nextGaussian() + (j % 3 == y[i] ? 1f : 0f);
            }
        }
        return new ArrayDataset(x, y, 8);
    }

    /** A small run: model (with dropout), optimiser, schedule, shuffling loader, generators. Closes what it owns. */
    private final class Run implements AutoCloseable {
        final Generator init = new Generator(5);
        final Generator drop = new Generator(6);
        final Sequential model;
        final Optimizer opt;
        final LrScheduler sched;
        final DataLoader loader;
        final TrainingState state;
        final List<Double> losses = new ArrayList<>();

        Run(Function<List<Tensor>, Optimizer> makeOpt) {
            model = new Sequential(new Linear(sn, 8, 16, init), new ReLU(), new Dropout(0.25, drop),
                    new Linear(sn, 16, 3, init));
            opt = makeOpt.apply(model.parameters());
            sched = new StepLR(opt, 1, 0.7);
            loader = DataLoader.builder(sn, data()).batchSize(6).shuffle(9).build();
            state = new TrainingState(model, opt, sched, loader, Map.of("init", init, "dropout", drop));
        }

        /** Trains until the optimiser has taken {@code untilStep} steps; the schedule steps at each new epoch. */
        void train(long untilStep) {
            while (opt.stepCount() < untilStep) {
                DataLoader.EpochIterator it = loader.currentEpoch();
                if (it == null || !it.hasNext()) {
                    if (it != null) {
                        sched.step();
                    }
                    it = loader.iterator();
                }
                try (var _ = sn.scope()) {
                    Batch b = it.next();
                    opt.zeroGrad();
                    Tensor loss = Losses.crossEntropy(model.forward(b.x()), b.y());
                    loss.backward();
                    opt.step();
                    losses.add(loss.item());
                }
            }
        }

        @Override
        public void close() {
            opt.close();
            model.close();
        }
    }

    private static final List<Function<List<Tensor>, Optimizer>> OPTIMIZERS = List.of(
            p -> Adam.builder(p).lr(0.01).weightDecay(0.01).build(),
            p -> new AdamW(p, 0.01),
            p -> SGD.builder(p).lr(0.1).momentum(0.9).nesterov(true).build(),
            p -> new SGD(p, 0.1),
            p -> RMSProp.builder(p).lr(0.01).momentum(0.3).centered(true).build());

    /** Saved mid-epoch and at an epoch end, then restored into fresh objects: the same losses to the bit. */
    @Test
    void aRestoredRunContinuesWithTheSameLossesBitForBit() throws IOException {
        for (var makeOpt : OPTIMIZERS) {
            for (long at : new long[] {6, 8}) { // mid epoch 2; end of epoch 2
                Path dir = tmp.resolve("run-" + at + "-" + System.nanoTime());
                List<Double> expected;
                float[] expectedWeight;
                try (Run a = new Run(makeOpt); CheckpointWriter w = CheckpointWriter.open(dir, 1)) {
                    a.train(at);
                    w.save(at, a.state, Map.of("note", "hello"));
                    a.train(3 * STEPS_PER_EPOCH + 2);
                    expected = a.losses.subList((int) at, a.losses.size());
                    expectedWeight = a.model.parameters().get(0).toFloatArray();
                }
                try (Run b = new Run(makeOpt)) {
                    b.train(1); // state that the restore must replace
                    Checkpoint ck = Checkpoint.read(dir);
                    assertEquals(at, ck.step());
                    assertEquals("hello", ck.extra().get("note"));
                    ck.restore(b.state);
                    assertEquals(at, b.opt.stepCount());
                    b.losses.clear();
                    b.train(3 * STEPS_PER_EPOCH + 2);
                    assertEquals(expected, b.losses, b.opt.name() + " resumed at step " + at);
                    assertArrayEquals(expectedWeight, b.model.parameters().get(0).toFloatArray());
                }
            }
        }
    }

    @Test
    void theFolderKeepsTheNewestCheckpointsAndALatestPointer() throws IOException {
        Path dir = tmp.resolve("ck");
        try (Run r = new Run(p -> new Adam(p)); CheckpointWriter w = CheckpointWriter.open(dir, 2)) {
            for (long s = 1; s <= 5; s++) {
                r.train(s);
                assertEquals(dir.resolve(Checkpoint.folderName(s)), w.save(s, r.state, Map.of()));
                assertEquals(dir.resolve(Checkpoint.folderName(s)), w.lastSaved());
            }
            assertEquals(List.of("ckpt-00000004", "ckpt-00000005"), names(Checkpoint.list(dir)));
            assertEquals("ckpt-00000005\n", Files.readString(dir.resolve(Checkpoint.LATEST)));
            try (Stream<Path> s = Files.list(dir)) {
                assertEquals(List.of(".lock", "ckpt-00000004", "ckpt-00000005", "latest"),
                        s.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary files left");
            }
            var e = assertThrows(IllegalStateException.class, () -> w.save(5, r.state, Map.of()));
            assertTrue(e.getMessage().contains("already the latest"), e.getMessage());
            // Saving below the latest (a run resumed from an older checkpoint) drops the newer ones.
            w.save(3, r.state, Map.of());
            assertEquals(List.of("ckpt-00000003"), names(Checkpoint.list(dir)));
            assertEquals(3, Checkpoint.read(dir).step());
            // Another step 4 replaces the stale one of the abandoned timeline... which was dropped above;
            // make one by hand to check that a stale folder of the same name is replaced.
            Files.createDirectories(dir.resolve("ckpt-00000004"));
            w.save(4, r.state, Map.of());
            assertEquals(4, Checkpoint.read(dir).step());
            assertEquals(List.of("ckpt-00000003", "ckpt-00000004"), names(Checkpoint.list(dir)));
            // Rewinding to an earlier checkpoint makes it the latest and drops the newer ones.
            w.rewind(dir.resolve("ckpt-00000003"));
            assertEquals(3, Checkpoint.read(dir).step());
            assertEquals(List.of("ckpt-00000003"), names(Checkpoint.list(dir)));
            w.save(4, r.state, Map.of());
            assertThrows(IllegalArgumentException.class, () -> w.rewind(tmp.resolve("elsewhere/ckpt-00000001")));
        }
    }

    private static List<String> names(List<Path> ps) {
        return ps.stream().map(p -> p.getFileName().toString()).toList();
    }

    @Test
    void aSecondWriterIsRefusedAndLeftoversAreCleanedOnOpen() throws IOException {
        Path dir = tmp.resolve("ck");
        try (Run r = new Run(p -> new SGD(p, 0.1))) {
            try (CheckpointWriter w = CheckpointWriter.open(dir, 1)) {
                r.train(1);
                w.save(1, r.state, Map.of());
                var e = assertThrows(FileSystemException.class, () -> CheckpointWriter.open(dir, 1));
                assertTrue(e.getMessage().contains("in use by another run"), e.getMessage());
            }
            Files.createDirectories(dir.resolve(".tmp-ckpt-00000002-abc"));
            Files.writeString(dir.resolve(".tmp-ckpt-00000002-abc/model.safetensors"), "partial");
            Files.createDirectories(dir.resolve(".trash-ckpt-00000000-def"));
            Files.writeString(dir.resolve(".latest-12.tmp"), "ckpt-000");
            try (CheckpointWriter _ = CheckpointWriter.open(dir, 1)) {
                try (Stream<Path> s = Files.list(dir)) {
                    assertEquals(List.of(".lock", "ckpt-00000001", "latest"),
                            s.map(p -> p.getFileName().toString()).sorted().toList());
                }
            }
            assertEquals(1, Checkpoint.read(dir).step());
            // No latest pointer (killed between the rename and the pointer's update): the highest one is used.
            Files.delete(dir.resolve(Checkpoint.LATEST));
            assertEquals(1, Checkpoint.read(dir).step());
            assertThrows(IllegalArgumentException.class, () -> CheckpointWriter.open(dir, 0));
        }
    }

    /** Damages a fresh checkpoint in one way and returns the one-line message of reading it. */
    private String damaged(String name, Damage d) throws IOException {
        Path dir = tmp.resolve(name);
        try (Run r = new Run(p -> new Adam(p)); CheckpointWriter w = CheckpointWriter.open(dir, 1)) {
            r.train(2);
            w.save(2, r.state, Map.of());
        }
        Path ck = dir.resolve("ckpt-00000002");
        d.apply(dir, ck, ck.resolve(Checkpoint.STATE_FILE));
        IOException e = assertThrows(IOException.class, () -> Checkpoint.read(dir), name);
        String m = e.getMessage();
        assertNotNull(m);
        assertFalse(m.contains("\n"), "one line: " + m);
        return m;
    }

    @FunctionalInterface
    private interface Damage {
        void apply(Path dir, Path ck, Path state) throws IOException;
    }

    private static void edit(Path state, String from, String to) throws IOException {
        String s = Files.readString(state);
        assertTrue(s.contains(from), from);
        Files.writeString(state, s.replace(from, to));
    }

    @Test
    void damagedCheckpointsGiveOneLineErrorsNamingTheProblem() throws IOException {
        Map<String, Damage> cases = new java.util.LinkedHashMap<>();
        Map<String, String> expect = new java.util.LinkedHashMap<>();
        cases.put("newer", (dir, ck, st) -> edit(st, "\"version\": 1", "\"version\": 2"));
        expect.put("newer", "checkpoint format version 2 is newer than this Sinew reads (1)");
        cases.put("zero", (dir, ck, st) -> edit(st, "\"version\": 1", "\"version\": 0"));
        expect.put("zero", "checkpoint format version 0 is invalid");
        cases.put("format", (dir, ck, st) -> edit(st, "\"sinew-checkpoint\"", "\"other\""));
        expect.put("format", "format is 'other', not 'sinew-checkpoint'");
        cases.put("json", (dir, ck, st) -> Files.writeString(st, "{\"format\": "));
        expect.put("json", "state.json: is not valid JSON");
        cases.put("trailing", (dir, ck, st) -> Files.writeString(st, Files.readString(st) + "{}"));
        expect.put("trailing", "data after the top-level object");
        cases.put("utf8", (dir, ck, st) -> Files.write(st, new byte[] {'{', (byte) 0xff, '}'}));
        expect.put("utf8", "is not valid UTF-8");
        cases.put("nostep", (dir, ck, st) -> edit(st, "\"step\": 2,", ""));
        expect.put("nostep", "field 'step' is missing");
        cases.put("stepstring", (dir, ck, st) -> edit(st, "\"step\": 2,", "\"step\": \"2\","));
        expect.put("stepstring", "field 'step' must be a 64-bit integer, got the string \"2\"");
        cases.put("stepfraction", (dir, ck, st) -> edit(st, "\"step\": 2,", "\"step\": 2.5,"));
        expect.put("stepfraction", "field 'step' must be a 64-bit integer, got 2.5");
        cases.put("unknownfile", (dir, ck, st) -> edit(st, "\"files\": {", "\"files\": {\"../x\": {\"bytes\": 1, \"crc32c\": \"0\"},"));
        expect.put("unknownfile", "lists an unknown file '../x'");
        cases.put("truncated", (dir, ck, st) -> {
            Path m = ck.resolve(Checkpoint.MODEL_FILE);
            byte[] b = Files.readAllBytes(m);
            Files.write(m, java.util.Arrays.copyOf(b, b.length - 3));
        });
        expect.put("truncated", "model.safetensors: is ");
        cases.put("flipped", (dir, ck, st) -> {
            Path m = ck.resolve(Checkpoint.OPTIM_FILE);
            byte[] b = Files.readAllBytes(m);
            b[b.length - 5] ^= 1;
            Files.write(m, b);
        });
        expect.put("flipped", "optim.safetensors: checksum mismatch");
        cases.put("missingfile", (dir, ck, st) -> Files.delete(ck.resolve(Checkpoint.MODEL_FILE)));
        expect.put("missingfile", "model.safetensors: is missing (listed in state.json)");
        cases.put("nostate", (dir, ck, st) -> Files.delete(st));
        expect.put("nostate", "has no state.json");
        cases.put("latestgarbage", (dir, ck, st) -> Files.writeString(dir.resolve(Checkpoint.LATEST), "../../etc"));
        expect.put("latestgarbage", "latest: holds '../../etc', not a checkpoint name like ckpt-00000012");
        cases.put("latestmissing", (dir, ck, st) -> Files.writeString(dir.resolve(Checkpoint.LATEST), "ckpt-00000009"));
        expect.put("latestmissing", "latest: names ckpt-00000009, which is not in the folder");
        cases.put("empty", (dir, ck, st) -> {
            Files.delete(dir.resolve(Checkpoint.LATEST));
            Durable.deleteTree(ck);
        });
        expect.put("empty", "holds no checkpoint");
        for (var c : cases.entrySet()) {
            String m = damaged(c.getKey(), c.getValue());
            String want = expect.get(c.getKey());
            assertTrue(m.contains(want), () -> c.getKey() + ": expected '" + want + "' in: " + m);
        }
        assertThrows(NoSuchFileException.class, () -> Checkpoint.read(tmp.resolve("nowhere")));
        Path file = Files.writeString(tmp.resolve("plain"), "x");
        var e = assertThrows(CheckpointFormatException.class, () -> Checkpoint.read(file));
        assertTrue(e.getMessage().endsWith("is a file, not a checkpoint folder"), e.getMessage());
    }

    @Test
    void aMismatchedRestoreIsRefusedBeforeAnythingChanges() throws IOException {
        Path dir = tmp.resolve("ck");
        try (Run a = new Run(p -> new Adam(p)); CheckpointWriter w = CheckpointWriter.open(dir, 1)) {
            a.train(3);
            w.save(3, a.state, Map.of());
        }
        Checkpoint ck = Checkpoint.read(dir);
        // Another model shape: every difference named, the generators untouched.
        Generator g = new Generator(1);
        try (Sequential other = new Sequential(new Linear(sn, 8, 12, g), new ReLU(), new Linear(sn, 12, 3, g),
                new Linear(sn, 3, 3, g))) {
            long offset = g.offset();
            var e = assertThrows(IllegalArgumentException.class, () -> ck.restore(new TrainingState(other, null, null,
                    null, Map.of("init", g))));
            String m = e.getMessage();
            assertTrue(m.contains("missing keys [2.weight, 2.bias], unexpected keys [], wrong shapes [0.weight"
                    + " (checkpoint [16, 8], model [12, 8]), 0.bias"), m);
            assertTrue(m.contains("3.weight (checkpoint [3, 16], model [3, 3])"), m);
            assertEquals(offset, g.offset(), "generator untouched");
        }
        try (Run b = new Run(p -> new Adam(p)); Adam six = new Adam(List.of(b.model.parameters().get(0),
                b.model.parameters().get(1)))) {
            var e = assertThrows(IllegalArgumentException.class, () -> ck.restore(TrainingState.of(b.model, six)));
            assertTrue(e.getMessage().contains("the optimizer state is for 4 parameters, the optimizer has 2"),
                    e.getMessage());
        }
        try (Run b = new Run(p -> new SGD(p, 0.1, 0.9))) {
            var e = assertThrows(IllegalArgumentException.class, () -> ck.restore(b.state));
            assertTrue(e.getMessage().contains("holds Adam state, the optimizer is SGD"), e.getMessage());
        }
        try (Run b = new Run(p -> new Adam(p))) {
            DataLoader bigger = DataLoader.builder(sn, data()).batchSize(7).shuffle(9).build();
            var e = assertThrows(IllegalArgumentException.class, () -> ck.restore(new TrainingState(b.model, b.opt,
                    null, bigger, Map.of())));
            assertTrue(e.getMessage().contains("batch size 6, this loader's is 7"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> ck.restore(new TrainingState(b.model, b.opt, null,
                    null, Map.of("elsewhere", new Generator(1)))));
            assertTrue(e.getMessage().contains("has no state for generator(s) [elsewhere]"), e.getMessage());
            assertEquals(0, b.opt.stepCount());
            // The model file is plain safetensors with PyTorch's names: it loads on its own.
            Safetensors.loadInto(b.model, ck.modelFile(), true);
            try (SafetensorsFile f = Safetensors.open(ck.modelFile())) {
                assertEquals("pt", f.metadata().get("format"));
                assertEquals(List.of("0.weight", "0.bias", "3.weight", "3.bias"), List.copyOf(f.names()));
            }
        }
    }

    @Test
    void stateJsonIsReadableAndComplete() throws IOException {
        Path dir = tmp.resolve("ck");
        try (Run a = new Run(p -> new Adam(p)); CheckpointWriter w = CheckpointWriter.open(dir, 1)) {
            a.train(5);
            w.save(5, a.state, Map.of("k", "v\n\"quoted\""));
            Checkpoint ck = Checkpoint.read(dir);
            assertEquals(Checkpoint.VERSION, ck.version());
            assertEquals("Sequential", ck.modelClass());
            assertEquals("Adam", ck.optimizer().name());
            assertEquals(a.opt.lr(), ck.optimizer().lr());
            assertEquals(List.of("0.weight", "0.bias", "3.weight", "3.bias"), ck.optimizer().paramNames());
            assertEquals(5L, ck.optimizer().counters().get("0.step"));
            assertEquals(new Checkpoint.SchedulerInfo("StepLR", 1, a.sched.baseLr()), ck.scheduler());
            assertEquals(a.loader.position(), ck.loader());
            assertEquals(new Checkpoint.GeneratorState(a.drop.seed(), a.drop.offset()), ck.generators().get("dropout"));
            assertEquals("v\n\"quoted\"", ck.extra().get("k"));
            assertEquals(List.of(Checkpoint.MODEL_FILE, Checkpoint.OPTIM_FILE),
                    ck.files().stream().map(Checkpoint.FileEntry::name).toList());
            String json = new String(Files.readAllBytes(ck.folder().resolve(Checkpoint.STATE_FILE)), StandardCharsets.UTF_8);
            assertTrue(json.startsWith("{\n  \"format\": \"sinew-checkpoint\",\n  \"version\": 1,"), json);
        }
    }
}
