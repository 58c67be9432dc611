package dev.sinew.io;

import dev.sinew.DType;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Not a test (no timed assertions in tests): measures how long loading a 100 M-parameter safetensors
 * file takes against reading its bytes from the page cache.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp core/target/classes:core/target/test-classes:GSON_JAR \
 *     dev.sinew.io.SafetensorsLoadSpeed [/tmp/sinew-100m.safetensors] [backend]
 * </pre>
 *
 * <p>It writes the file (24 × [2048, 2048] + 24 × [2048] F32 = 100.7 M parameters, about 403 MB) if
 * it is missing, reads it once to warm the page cache, then times, as the median of several runs:
 * <ul>
 *   <li><b>read</b>: {@code FileChannel.read} of the whole file into one reused native buffer (the
 *       bytes from the page cache, nothing else);</li>
 *   <li><b>loadAll</b>: open (parse, map) + {@link SafetensorsFile#loadAll} into new tensors
 *       (uninitialised allocation from the warm pool with {@code Sinew.empty}, then the copy);</li>
 *   <li><b>readInto</b>: open + {@link SafetensorsFile#readInto} every tensor into existing tensors, as
 *       loading weights into a built model does (the copy alone);</li>
 *   <li><b>zeros</b>: for comparison, allocating and zero-filling tensors of the file's shapes, which
 *       loadAll avoids by allocating with {@code Sinew.empty}.</li>
 * </ul>
 * The file is left in /tmp; delete it afterwards.
 */
public final class SafetensorsLoadSpeed {
    private static final int LAYERS = 24;
    private static final int N = 2048;
    private static final int RUNS = 7;

    private SafetensorsLoadSpeed() {
    }

    public static void main(String[] args) throws IOException {
        Path path = Path.of(args.length > 0 ? args[0] : "/tmp/sinew-100m.safetensors");
        String backend = args.length > 1 ? args[1] : "reference";
        try (Sinew sn = Sinew.use(backend)) {
            if (!Files.exists(path)) {
                write(sn, path);
            }
            long size = Files.size(path);
            long params;
            try (SafetensorsFile f = Safetensors.open(path)) {
                params = f.totalElements();
            }
            System.out.printf("file %s: %.1f MB, %.1f M parameters, backend %s%n", path, size / 1e6, params / 1e6,
                    backend);

            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(size, 64);
                read(path, buf); // warm the page cache and the buffer's pages
                double[] readMs = new double[RUNS];
                double[] loadAllMs = new double[RUNS];
                double[] readIntoMs = new double[RUNS];
                double[] zerosMs = new double[RUNS];
                Map<String, Tensor> model = new LinkedHashMap<>();
                try (SafetensorsFile f = Safetensors.open(path)) {
                    for (String name : f.names()) {
                        model.put(name, sn.zeros(DType.FLOAT32, f.info(name).shape()));
                    }
                }
                for (int r = -1; r < RUNS; r++) { // run -1 warms the JIT and the allocator's pool
                    long t0 = System.nanoTime();
                    read(path, buf);
                    long t1 = System.nanoTime();
                    try (var _ = sn.scope(); SafetensorsFile f = Safetensors.open(path)) {
                        Map<String, Tensor> all = f.loadAll(sn);
                        if (all.size() != 2 * LAYERS) {
                            throw new IllegalStateException("loaded " + all.size());
                        }
                    }
                    long t2 = System.nanoTime();
                    try (var _ = sn.scope()) { // for comparison: what a zero fill would cost (loadAll skips it)
                        for (Tensor t : model.values()) {
                            sn.zeros(DType.FLOAT32, t.dims());
                        }
                    }
                    long t3 = System.nanoTime();
                    try (SafetensorsFile f = Safetensors.open(path)) {
                        for (var e : model.entrySet()) {
                            f.readInto(e.getKey(), e.getValue());
                        }
                    }
                    long t4 = System.nanoTime();
                    if (r >= 0) {
                        readMs[r] = (t1 - t0) / 1e6;
                        loadAllMs[r] = (t2 - t1) / 1e6;
                        readIntoMs[r] = (t4 - t3) / 1e6;
                        zerosMs[r] = (t3 - t2) / 1e6;
                    }
                }
                double read = median(readMs);
                double loadAll = median(loadAllMs);
                double readInto = median(readIntoMs);
                System.out.printf("read from page cache: median %.1f ms (%.2f GB/s), runs %s%n", read, size / read / 1e6,
                        fmt(readMs));
                System.out.printf("loadAll (new tensors): median %.1f ms = %.2f x read, runs %s%n", loadAll,
                        loadAll / read, fmt(loadAllMs));
                System.out.printf("  for comparison, allocating zero-filled tensors (Sinew.zeros, which loadAll avoids): median %.1f ms, runs %s%n",
                        median(zerosMs), fmt(zerosMs));
                System.out.printf("readInto (existing tensors): median %.1f ms = %.2f x read, runs %s%n", readInto,
                        readInto / read, fmt(readIntoMs));
                for (Tensor t : model.values()) {
                    t.close();
                }
            }
        }
    }

    private static void write(Sinew sn, Path path) throws IOException {
        long t0 = System.nanoTime();
        Generator g = new Generator(1);
        Map<String, Tensor> m = new LinkedHashMap<>();
        try (var _ = sn.scope()) {
            for (int i = 0; i < LAYERS; i++) {
                m.put("layers." + i + ".weight", sn.uniform(g, -0.02, 0.02, DType.FLOAT32, N, N));
                m.put("layers." + i + ".bias", sn.zeros(DType.FLOAT32, N));
            }
            long t1 = System.nanoTime();
            Safetensors.write(path, m, Map.of("format", "pt"));
            long t2 = System.nanoTime();
            System.out.printf("wrote %s: init %.0f ms, Safetensors.write %.0f ms%n", path, (t1 - t0) / 1e6, (t2 - t1) / 1e6);
        }
    }

    private static void read(Path path, MemorySegment buf) throws IOException {
        try (FileChannel ch = FileChannel.open(path)) {
            long pos = 0;
            long size = buf.byteSize();
            while (pos < size) {
                ByteBuffer bb = buf.asSlice(pos, Math.min(1L << 30, size - pos)).asByteBuffer();
                int n = ch.read(bb, pos);
                if (n < 0) {
                    throw new IOException("short read");
                }
                pos += n;
            }
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static String fmt(double[] v) {
        List<String> out = new ArrayList<>();
        for (double d : v) {
            out.add(String.format("%.0f", d));
        }
        return out.toString();
    }
}
