package dev.sinew.bench;

import static dev.sinew.bench.MainTest.assertOneLineError;
import static dev.sinew.bench.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.io.Checkpoint;
import dev.sinew.io.Safetensors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sinew inspect}: safetensors files and checkpoint folders listed; bad input one line, exit code 2. */
class InspectCommandTest {
    @TempDir
    Path tmp;

    @Test
    void listsTensorsMetadataAndTotals() throws IOException {
        Path f = tmp.resolve("w.safetensors");
        try (Sinew sn = Sinew.use("reference"); var _ = sn.scope()) {
            LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
            t.put("fc.weight", sn.ones(DType.FLOAT32, 4, 3));
            t.put("fc.bias", sn.zeros(DType.FLOAT64, 4));
            t.put("steps", sn.zeros(DType.INT64, 1));
            Safetensors.write(f, t, Map.of("format", "pt", "note", "line\nbreak"));
        }
        MainTest.Result r = run("inspect", f.toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.outLines();
        assertTrue(lines.get(0).startsWith("file: " + f + " ("), lines.get(0));
        assertTrue(r.out().contains("  format = pt"), r.out());
        assertTrue(r.out().contains("  note = line\\u000abreak"), "control characters escaped: " + r.out());
        assertTrue(lines.stream().anyMatch(l -> l.matches("\\s+fc\\.weight\\s+F32\\s+\\[4, 3\\]\\s+48")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.matches("\\s+fc\\.bias\\s+F64\\s+\\[4\\]\\s+32")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.matches("\\s+steps\\s+I64\\s+\\[1\\]\\s+8")), r.out());
        assertEquals("total: 3 tensors, 17 elements, 88 bytes of data", lines.get(lines.size() - 1));
    }

    @Test
    void describesACheckpointFolder() throws IOException {
        Path data = MainTest.syntheticData(tmp.resolve("data"), 20, 10);
        Path ck = tmp.resolve("ck");
        MainTest.Result t = run("train", "--model", "tiny-mlp", "--epochs", "2", "--batch", "8", "--backend", "reference",
                "--data", data.toString(), "--no-progress", "--checkpoint", ck.toString(), "--every", "2", "--keep", "2");
        assertEquals(0, t.code(), t.err());
        for (Path p : List.of(ck, ck.resolve("ckpt-00000006"))) {
            MainTest.Result r = run("inspect", p.toString());
            assertEquals(0, r.code(), r.err());
            String o = r.out();
            assertTrue(o.startsWith("checkpoint: " + ck.toAbsolutePath().resolve("ckpt-00000006") + "\n")
                    || o.startsWith("checkpoint: " + ck.resolve("ckpt-00000006") + "\n"), o);
            assertTrue(o.contains("format: sinew-checkpoint version " + Checkpoint.VERSION + "\nstep: 6\n"), o);
            assertTrue(o.contains("checkpoints in "), o);
            assertTrue(o.contains("ckpt-00000004, ckpt-00000006"), o);
            assertTrue(o.contains("optimizer: Adam, lr 0.001, 6 steps, 4 parameters"), o);
            assertTrue(o.contains("data loader: epoch 2, batch 3 of 3 (batch size 8, 20 samples, shuffled"), o);
            assertTrue(o.contains("generator init: seed 1, offset "), o);
            assertTrue(o.contains("model.safetensors ("), o);
            assertTrue(o.contains("CRC-32C "), o);
            assertTrue(o.contains("0.exp_avg_sq"), o);
            assertTrue(o.contains("total: 4 tensors, 25,450 elements, 101,800 bytes of data"), o);
        }
    }

    @Test
    void badFilesAreOneLineErrorsWithExitCode2() throws IOException {
        Path empty = Files.write(tmp.resolve("empty.safetensors"), new byte[0]);
        assertOneLineError(run("inspect", empty.toString()), 2, "empty.safetensors", "file is empty (0 bytes)");
        byte[] header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}".getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        Path shortData = Files.write(tmp.resolve("short.safetensors"), b.array());
        assertOneLineError(run("inspect", shortData.toString()), 2, "short.safetensors", "'a'");
        byte[] huge = Arrays.copyOf(b.array(), 16);
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        Path hugeHeader = Files.write(tmp.resolve("huge.safetensors"), huge);
        assertOneLineError(run("inspect", hugeHeader.toString()), 2, "exceeds the limit");
        assertOneLineError(run("inspect", tmp.resolve("missing").toString()), 2, "missing", "no such file");
        Files.createDirectories(tmp.resolve("folder"));
        assertOneLineError(run("inspect", tmp.resolve("folder").toString()), 2, "holds no checkpoint");
        assertOneLineError(run("inspect"), 2, "PATH");
    }
}
