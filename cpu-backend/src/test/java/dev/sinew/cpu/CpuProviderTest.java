package dev.sinew.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.spi.Backend;
import dev.sinew.spi.BackendOptions;
import dev.sinew.spi.BackendProvider;
import dev.sinew.spi.Storage;
import dev.sinew.spi.View;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** Discovery, probing, description and lifecycle of the backend, and its thread pool's contract. */
class CpuProviderTest {

    @Test
    void serviceLoaderFindsTheProvider() {
        BackendProvider found = null;
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
            if (p.name().equals("cpu")) {
                found = p;
            }
        }
        assertTrue(found instanceof CpuProvider, "ServiceLoader lists the cpu provider");
        assertEquals(100, found.priority());
        // tests run with --add-modules jdk.incubator.vector, so it is available
        assertTrue(found.probe().available(), "probe: " + found.probe());
    }

    /** Without --add-modules jdk.incubator.vector, listing and probing still work and say why. */
    @Test
    void probeWithoutTheVectorModule() throws Exception {
        String javaBin = System.getProperty("java.home") + "/bin/java";
        Process proc = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"),
                ProbeMain.class.getName()).redirectErrorStream(true).start();
        String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, proc.waitFor(), "probe JVM output: " + out);
        assertTrue(out.contains("cpu -> unavailable: the JVM was started without --add-modules jdk.incubator.vector"),
                "probe JVM output: " + out);
    }

    @Test
    void createDescribeAndClose() {
        Backend b = new CpuProvider().create(new BackendOptions(3, false));
        try {
            assertTrue(b instanceof CpuBackend);
            assertSame(b, b.primitives());
            assertEquals("cpu", b.name());
            Map<String, String> d = b.describe();
            assertEquals("3", d.get("threads"));
            assertEquals("jdk.incubator.vector", d.get("simd"));
            int bits = Integer.parseInt(d.get("vector bits"));
            assertEquals(bits / 32, Integer.parseInt(d.get("float lanes")));
            Storage s = b.allocate(DType.FLOAT32, 100);
            assertEquals(1, b.liveBuffers());
            b.fill(View.contiguous(s, 100), 2);
            s.release();
            assertEquals(0, b.liveBuffers());
        } finally {
            b.close();
        }
        b.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> b.allocate(DType.FLOAT32, 4), "allocate after close");
    }

    @Test
    void storageOfAnotherBackendIsRejected() {
        try (CpuBackend b = new CpuBackend(new BackendOptions(1, false));
                dev.sinew.reference.ReferenceBackend r = new dev.sinew.reference.ReferenceBackend()) {
            Storage s = r.allocate(DType.FLOAT32, 4);
            try {
                b.fill(View.contiguous(s, 4), 1); // host memory of another host backend: allowed
                assertEquals(1.0, TestData.read(b, View.contiguous(s, 4))[3]);
            } finally {
                s.release();
            }
        }
    }

    @Test
    void parallelRunsEveryChunkOnceAndRethrows() {
        try (Parallel p = new Parallel(2)) {
            for (int n : new int[] {1, 2, 3, 7, 64}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                p.run(n, hits::incrementAndGet);
                for (int i = 0; i < n; i++) {
                    assertEquals(1, hits.get(i), "chunk " + i + " of " + n);
                }
            }
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.run(8, c -> {
                if (c == 5) {
                    throw new IllegalStateException("chunk five");
                }
            }));
            assertEquals("chunk five", e.getMessage());
            assertEquals(1, p.chunks(10, 1 << 15));
            assertTrue(p.chunks(1 << 20, 1 << 15) >= 2);
            for (int parts : new int[] {1, 2, 3, 5}) {
                long prev = 0;
                for (int i = 0; i <= parts; i++) {
                    long b = Parallel.align(1000, parts, i, 64);
                    assertTrue(b >= prev && (b % 64 == 0 || b == 1000), "aligned, ordered boundaries");
                    prev = b;
                }
                assertEquals(1000, prev);
            }
        }
        Parallel closed = new Parallel(2);
        closed.close();
        AtomicIntegerArray hits = new AtomicIntegerArray(5);
        closed.run(5, hits::incrementAndGet); // after close: all on the caller
        for (int i = 0; i < 5; i++) {
            assertEquals(1, hits.get(i));
        }
    }
}
