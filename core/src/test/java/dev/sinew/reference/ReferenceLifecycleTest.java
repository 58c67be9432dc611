package dev.sinew.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.sinew.DType;
import dev.sinew.spi.Backend;
import dev.sinew.spi.BackendOptions;
import dev.sinew.spi.BackendProvider;
import dev.sinew.spi.Storage;
import dev.sinew.spi.UnaryOp;
import dev.sinew.spi.View;
import dev.sinew.testing.Views;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/**
 * Lifetimes and discovery of the reference backend: ServiceLoader registration, use after close and
 * double release as {@link IllegalStateException}, byte accounting, and the leak detector reporting
 * a storage that was dropped without being released.
 */
class ReferenceLifecycleTest {

    @Test
    void providerIsRegisteredAndAlwaysAvailable() {
        BackendProvider p = ServiceLoader.load(BackendProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(x -> x.name().equals("reference"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no provider named reference in META-INF/services"));
        assertEquals(0, p.priority());
        assertTrue(p.probe().available(), p.probe().toString());
        try (Backend b = p.create(BackendOptions.defaults())) {
            assertInstanceOf(ReferenceBackend.class, b);
            assertEquals("reference", b.name());
            assertEquals("plain Java, double accumulation", b.describe().get("kind"));
            assertEquals("1", b.describe().get("threads"));
            assertEquals(b, b.primitives());
        }
    }

    @Test
    void useAfterCloseIsAnIllegalStateException() {
        try (ReferenceBackend b = new ReferenceBackend()) {
            Storage s = b.allocate(DType.FLOAT32, 8);
            View v = View.contiguous(s, 8);
            b.fill(v, 1);
            s.release();
            assertFalse(s.isLive());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.fill(v, 2));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> Views.toDoubles(v));
            View other = Views.fromDoubles(b, DType.FLOAT32, new double[8], 8);
            assertThrows(IllegalStateException.class, () -> b.unary(UnaryOp.EXP, v, other));
            assertThrows(IllegalStateException.class, () -> b.unary(UnaryOp.EXP, other, v));
            assertThrows(IllegalStateException.class, () -> b.softmax(v, other, false));
            Views.release(other);
            assertEquals(0, b.liveBuffers());
        }
    }

    @Test
    void releasingTwiceIsAnError() {
        try (ReferenceBackend b = new ReferenceBackend()) {
            Storage s = b.allocate(DType.INT64, 3);
            s.retain();
            s.release();
            assertTrue(s.isLive(), "one reference left");
            s.release();
            IllegalStateException e = assertThrows(IllegalStateException.class, s::release);
            assertTrue(e.getMessage().contains("closed twice"), e.getMessage());
            assertThrows(IllegalStateException.class, s::retain);
            assertEquals(0, b.liveBuffers(), "a failed release does not disturb the count");
        }
    }

    @Test
    void bytesAreAccountedAndAllocationAfterCloseFails() {
        ReferenceBackend b = new ReferenceBackend();
        Storage s = b.allocate(DType.FLOAT64, 1000);
        assertEquals(1, b.liveBuffers());
        assertTrue(b.liveBytes() >= 8000, "liveBytes " + b.liveBytes());
        long peak = b.peakBytes();
        s.release();
        assertEquals(0, b.liveBytes());
        assertEquals(peak, b.peakBytes(), "peak is kept");
        b.close();
        assertThrows(IllegalStateException.class, () -> b.allocate(DType.FLOAT32, 4));
    }

    /** Allocates in its own frame so that no reference to the storage survives the call. */
    private static void allocateAndDrop(ReferenceBackend b) {
        Storage s = b.allocate(DType.FLOAT32, 64);
        b.fill(View.contiguous(s, 64), 3);
    }

    @Test
    void leakDetectorReportsADroppedStorageWithItsAllocationSite() throws InterruptedException {
        try (ReferenceBackend b = new ReferenceBackend(new BackendOptions(1, true))) {
            allocateAndDrop(b);
            assertEquals(1, b.liveBuffers());
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (b.leakedBuffers() == 0) {
                if (System.nanoTime() > deadline) {
                    fail("the leak was not reported within 10 s of System.gc() calls");
                }
                System.gc();
                Thread.sleep(20);
            }
            assertEquals(1, b.leakedBuffers());
            assertEquals(0, b.liveBuffers(), "a reported leak is no longer live");
            assertEquals(0, b.liveBytes(), "the leaked block was reclaimed");
            String report = b.leakReports().get(0);
            assertTrue(report.startsWith("LEAK: reference buffer 64 x FLOAT32"), report);
            assertTrue(report.contains("allocateAndDrop"), "allocation site recorded: " + report);
        }
    }
}
