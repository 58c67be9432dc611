package dev.sinew.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Tensor;
import dev.sinew.nn.Linear;
import dev.sinew.nn.ReLU;
import dev.sinew.nn.Sequential;
import dev.sinew.nn.SinewTestBase;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sinew → file → Sinew is bit-exact for every dtype and layout, and the file is what the format says. */
class SafetensorsRoundTripTest extends SinewTestBase {
    @TempDir
    Path dir;

    private static long[] floatBits(Tensor t) {
        float[] f = t.toFloatArray();
        long[] b = new long[f.length];
        for (int i = 0; i < f.length; i++) {
            b[i] = Float.floatToRawIntBits(f[i]);
        }
        return b;
    }

    private static long[] doubleBits(Tensor t) {
        double[] d = t.toDoubleArray();
        long[] b = new long[d.length];
        for (int i = 0; i < d.length; i++) {
            b[i] = Double.doubleToRawLongBits(d[i]);
        }
        return b;
    }

    private static long[] bits(Tensor t) {
        return switch (t.dtype()) {
            case FLOAT32 -> floatBits(t);
            case FLOAT64 -> doubleBits(t);
            case INT64 -> t.toLongArray();
        };
    }

    @Test
    void everyDtypeAndLayoutRoundTripsBitExactly() throws IOException {
        float[] special = {0f, -0f, Float.NaN, Float.intBitsToFloat(0x7fc01234), Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, Float.MIN_VALUE, Float.MAX_VALUE, 1e-40f, -3.5f, 1f / 3, 7f};
        Tensor base = sn.randn(gen, DType.FLOAT32, 6, 5);
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("f32.special", sn.fromArray(special, 3, 4));
        in.put("f64", sn.randn(gen, DType.FLOAT64, 2, 3, 4));
        in.put("i64", sn.fromArray(new long[] {Long.MIN_VALUE, -1, 0, 1, Long.MAX_VALUE, 42}, 2, 3));
        in.put("scalar", sn.scalar(2.5, DType.FLOAT32));
        in.put("transposed", base.t());                          // [5, 6], strides [1, 5]
        in.put("sliced", base.slice(1, 1, 4));                   // [6, 3], offset 1
        in.put("expanded", sn.randn(gen, DType.FLOAT64, 1, 3).expand(4, 3)); // stride 0
        in.put("permuted", sn.randn(gen, DType.FLOAT32, 2, 3, 4).permute(2, 0, 1));
        in.put("weird name ✓ \"quoted\"\n", sn.ones(2));
        Map<String, String> meta = Map.of("format", "pt", "note", "ünïcödé \"and\" quotes");
        Path p = dir.resolve("rt.safetensors");
        Safetensors.write(p, in, meta);

        try (SafetensorsFile f = Safetensors.open(p)) {
            assertEquals(List.copyOf(in.keySet()), List.copyOf(f.names()));
            assertEquals(meta, f.metadata());
            for (var e : in.entrySet()) {
                Tensor want = e.getValue();
                TensorInfo info = f.info(e.getKey());
                assertEquals(SafetensorsDType.of(want.dtype()), info.dtype());
                assertArrayEquals(want.dims(), info.shape());
                assertEquals(0, info.begin() % info.dtype().byteSize(), "aligned: " + info);
                Tensor got = f.load(sn, e.getKey());
                assertEquals(want.dtype(), got.dtype());
                assertEquals(want.shape(), got.shape());
                assertArrayEquals(bits(want), bits(got), e.getKey());
            }
        }
        // The header is padded with spaces to a multiple of 8 and starts with '{'.
        byte[] raw = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, n % 8);
        assertEquals('{', raw[8]);
        String header = new String(raw, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{"), header);
        String padding = header.substring(header.stripTrailing().length());
        assertTrue(padding.length() < 8 && padding.chars().allMatch(c -> c == ' '), "padding '" + padding + "'");
        // No temporary file is left behind.
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(p), s.toList());
        }
    }

    @Test
    void fileLayoutIsLittleEndianRowMajor() throws IOException {
        Tensor t = sn.fromArray(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).t(); // [[1,4],[2,5],[3,6]]
        Path p = dir.resolve("t.safetensors");
        Safetensors.write(p, Map.of("t", t));
        try (SafetensorsFile f = Safetensors.open(p)) {
            MemorySegment raw = f.raw("t");
            float[] got = new float[6];
            for (int i = 0; i < 6; i++) {
                got[i] = raw.get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4L * i);
            }
            assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, got);
            assertEquals(f.fileSize(), f.dataStart() + 24);
        }
    }

    @Test
    void largeNonContiguousTensorsStreamInChunks() throws IOException {
        // 2.2M floats (8.8 MB) transposed: more than the 4 MiB staging buffer, so written in row slices.
        Tensor big = sn.randn(gen, DType.FLOAT32, 1100, 2000);
        Tensor bigT = big.t();
        Tensor lead1 = sn.randn(gen, DType.FLOAT64, 1, 1, 700, 1000).permute(0, 1, 3, 2); // leading 1s
        Path p = dir.resolve("big.safetensors");
        Safetensors.write(p, Map.of("bigT", bigT, "lead1", lead1));
        try (SafetensorsFile f = Safetensors.open(p)) {
            assertArrayEquals(bits(bigT), bits(f.load(sn, "bigT")));
            assertArrayEquals(bits(lead1), bits(f.load(sn, "lead1")));
        }
    }

    @Test
    void rewriteReplacesAtomically() throws IOException {
        Path p = dir.resolve("w.safetensors");
        Safetensors.write(p, Map.of("a", sn.ones(3)));
        Tensor closed = sn.zeros(2);
        closed.close();
        // A failing write (here: refused before a byte is written) leaves the old file intact.
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(p, Map.of("b", closed)));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(p, Map.of("__metadata__", sn.ones(1))));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(p, Map.of("x\uD800", sn.ones(1))));
        try (SafetensorsFile f = Safetensors.open(p)) {
            assertEquals(List.of("a"), List.copyOf(f.names()));
        }
        Safetensors.write(p, Map.of("b", sn.full(7, DType.FLOAT64, 2)));
        try (SafetensorsFile f = Safetensors.open(p)) {
            assertEquals(List.of("b"), List.copyOf(f.names()));
            assertArrayEquals(new double[] {7, 7}, f.load(sn, "b").toDoubleArray());
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(p), s.toList());
        }
    }

    @Test
    void anEmptyMapIsAValidFile() throws IOException {
        Path p = dir.resolve("none.safetensors");
        Safetensors.write(p, Map.of());
        try (SafetensorsFile f = Safetensors.open(p)) {
            assertTrue(f.names().isEmpty());
            assertTrue(f.loadAll(sn).isEmpty());
            assertEquals(16, f.fileSize()); // 8 + "{}" padded to 8
        }
    }

    @Test
    void moduleWeightsRoundTripThroughLoadInto() throws IOException {
        try (Sequential a = new Sequential(new Linear(sn, 20, 16, gen), new ReLU(), new Linear(sn, 16, 4, gen));
                Sequential b = new Sequential(new Linear(sn, 20, 16, gen), new ReLU(), new Linear(sn, 16, 4, gen))) {
            Path p = dir.resolve("mlp.safetensors");
            Safetensors.write(p, a.stateDict(), Map.of("format", "pt"));
            Safetensors.loadInto(b, p, true);
            for (var e : a.stateDict().entrySet()) {
                assertArrayEquals(bits(e.getValue()), bits(b.stateDict().get(e.getKey())), e.getKey());
            }
            Tensor x = sn.randn(gen, DType.FLOAT32, 3, 20);
            assertArrayEquals(floatBits(a.forward(x)), floatBits(b.forward(x)));
            // Parameters still require grad after an in-place load.
            assertTrue(b.stateDict().get("0.weight").requiresGrad());
        }
    }

    @Test
    void strictLoadReportsEveryMismatchAtOnce() throws IOException {
        try (Sequential m = new Sequential(new Linear(sn, 4, 3, gen), new ReLU(), new Linear(sn, 3, 2, gen))) {
            Path p = dir.resolve("other.safetensors");
            Safetensors.write(p, Map.of("0.weight", sn.zeros(3, 5), "0.bias", sn.zeros(3), "extra", sn.zeros(1)));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Safetensors.loadInto(m, p, true));
            String msg = e.getMessage();
            assertTrue(msg.contains("missing keys [2.weight, 2.bias]"), msg);
            assertTrue(msg.contains("unexpected keys [extra]"), msg);
            assertTrue(msg.contains("0.weight (file [3, 5], module [3, 4])"), msg);
            // Non-strict still refuses a wrong shape; with it fixed, skips the rest.
            assertThrows(IllegalArgumentException.class, () -> Safetensors.loadInto(m, p, false));
            Safetensors.write(p, Map.of("0.bias", sn.full(5, DType.FLOAT64, 3), "extra", sn.zeros(1)));
            Safetensors.loadInto(m, p, false);
            assertArrayEquals(new float[] {5, 5, 5}, m.stateDict().get("0.bias").toFloatArray());
        }
    }

    @Test
    void loadAsAnotherDtypeAndReadInto() throws IOException {
        Path p = dir.resolve("c.safetensors");
        Safetensors.write(p, Map.of("f", sn.fromArray(new float[] {1.5f, -2f}, 2), "i", sn.fromArray(new long[] {3, -4}, 2)));
        try (SafetensorsFile f = Safetensors.open(p)) {
            assertArrayEquals(new double[] {1.5, -2}, f.load(sn, "f", DType.FLOAT64).toDoubleArray());
            assertArrayEquals(new float[] {3, -4}, f.load(sn, "i", DType.FLOAT32).toFloatArray());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.load(sn, "f", DType.INT64));
            assertTrue(e.getMessage().contains("does not load as INT64"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> f.load(sn, "nope"));
            // readInto a non-contiguous destination goes through a temporary and copy_.
            Tensor dst = sn.zeros(DType.FLOAT64, 2, 2);
            Tensor col = dst.slice(1, 0, 1).squeeze(1);
            f.readInto("f", col);
            assertArrayEquals(new double[] {1.5, 0, -2, 0}, dst.toDoubleArray());
            assertThrows(IllegalArgumentException.class, () -> f.readInto("f", sn.zeros(3)));
            Tensor opOutput = sn.ones(2).requiresGrad(true).mul(2.0);
            IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> f.readInto("f", opOutput));
            assertTrue(e2.getMessage().contains("not a leaf"), e2.getMessage());
        }
    }

    @Test
    void closedFileRefusesAndLoadedTensorsOutliveIt() throws IOException {
        Path p = dir.resolve("c.safetensors");
        Safetensors.write(p, Map.of("a", sn.ones(4)));
        SafetensorsFile f = Safetensors.open(p);
        Tensor a = f.load(sn, "a");
        f.close();
        f.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> f.load(sn, "a"));
        assertArrayEquals(new float[] {1, 1, 1, 1}, a.toFloatArray());
    }

    @Test
    void inMemoryFilesOpenWithoutAFile() throws IOException {
        Path p = dir.resolve("m.safetensors");
        Safetensors.write(p, Map.of("a", sn.fromArray(new double[] {1, 2, 3}, 3)));
        byte[] bytes = Files.readAllBytes(p);
        try (SafetensorsFile f = Safetensors.open(MemorySegment.ofArray(bytes))) {
            assertEquals(null, f.path());
            assertArrayEquals(new double[] {1, 2, 3}, f.load(sn, "a").toDoubleArray());
        }
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class,
                () -> Safetensors.open(MemorySegment.ofArray(java.util.Arrays.copyOf(bytes, bytes.length - 1))));
        assertTrue(e.getMessage().startsWith("<memory>: tensor 'a': "), e.getMessage());
    }

    @Test
    void concurrentLoadsFromOneFile() throws Exception {
        Map<String, Tensor> in = new LinkedHashMap<>();
        for (int i = 0; i < 8; i++) {
            in.put("t" + i, sn.randn(gen, i % 2 == 0 ? DType.FLOAT32 : DType.FLOAT64, 64, 33));
        }
        Path p = dir.resolve("conc.safetensors");
        Safetensors.write(p, in);
        try (SafetensorsFile f = Safetensors.open(p);
                var pool = java.util.concurrent.Executors.newFixedThreadPool(4)) {
            List<java.util.concurrent.Future<long[]>> results = new java.util.ArrayList<>();
            for (String name : in.keySet()) {
                results.add(pool.submit(() -> {
                    try (Tensor t = f.load(sn, name)) { // no scope on a pool thread: the task owns it
                        return bits(t);
                    }
                }));
            }
            int i = 0;
            for (String name : in.keySet()) {
                assertArrayEquals(bits(in.get(name)), results.get(i++).get(), name);
            }
        }
    }

    @Test
    void aFileTruncatedOnDiskAfterOpeningFailsCleanly() throws IOException {
        Path p = dir.resolve("shrinks.safetensors");
        Safetensors.write(p, Map.of("big", sn.zeros(DType.FLOAT64, 1 << 18)));
        // and an F16 tensor, which is converted element by element rather than bulk-copied
        byte[] f16 = RawFile.of("{\"h\":{\"dtype\":\"F16\",\"shape\":[1048576],\"data_offsets\":[0,2097152]}}",
                new byte[1 << 21]);
        Path q = RawFile.write(dir, "shrinks16.safetensors", f16);
        for (Path path : List.of(p, q)) {
            try (SafetensorsFile f = Safetensors.open(path)) {
                try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(path,
                        java.nio.file.StandardOpenOption.WRITE)) {
                    ch.truncate(4096);
                }
                String name = f.names().iterator().next();
                IOException e = assertThrows(IOException.class, () -> f.load(sn, name));
                assertTrue(e.getMessage().contains("changed on disk"), e.getMessage());
            }
        }
    }
}
