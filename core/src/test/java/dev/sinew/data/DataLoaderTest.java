package dev.sinew.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DataLoaderTest {
    private Sinew sn;

    @BeforeEach
    void open() {
        sn = Sinew.use("reference");
    }

    @AfterEach
    void close() {
        sn.close();
    }

    /** The labels of each batch of one epoch (labels equal sample indices in {@link ArrayDatasetTest#numbered}). */
    private List<long[]> epoch(DataLoader loader) {
        List<long[]> out = new ArrayList<>();
        var it = loader.iterator();
        while (it.hasNext()) {
            try (var scope = sn.scope()) {
                Batch b = it.next();
                long[] y = b.y().toLongArray();
                float[] x = b.x().toFloatArray();
                int d = loader.dataset().sampleSize();
                for (int k = 0; k < y.length; k++) {
                    assertEquals(y[k] * 100f, x[k * d], "features travel with their label");
                }
                out.add(y);
            }
        }
        return out;
    }

    private static long[] flat(List<long[]> batches) {
        return batches.stream().flatMapToLong(Arrays::stream).toArray();
    }

    @Test
    void sequentialBatchesKeepTheShortLastOne() {
        DataLoader loader = DataLoader.builder(sn, ArrayDatasetTest.numbered(10, 3)).batchSize(4).build();
        assertEquals(3, loader.numBatches());
        assertEquals(10, loader.samplesPerEpoch());
        try (var scope = sn.scope()) {
            var it = loader.iterator();
            Batch first = it.next();
            assertArrayEquals(new long[] {4, 3}, first.x().dims());
            assertEquals(DType.FLOAT32, first.x().dtype());
            assertEquals(DType.INT64, first.y().dtype());
            assertArrayEquals(new long[] {4}, first.y().dims());
            assertEquals(4, first.size());
            it.next();
            Batch last = it.next();
            assertArrayEquals(new long[] {2, 3}, last.x().dims());
            assertArrayEquals(new long[] {8, 9}, last.y().toLongArray());
            assertArrayEquals(new float[] {800, 801, 802, 900, 901, 902}, last.x().toFloatArray());
            assertFalse(it.hasNext());
            assertThrows(NoSuchElementException.class, it::next);
        }
        assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, flat(epoch(loader)));
    }

    @Test
    void dropLeavesOutTheRemainder() {
        DataLoader loader = DataLoader.builder(sn, ArrayDatasetTest.numbered(10, 2)).batchSize(4)
                .lastBatch(LastBatch.DROP).shuffle(3).build();
        assertEquals(2, loader.numBatches());
        assertEquals(8, loader.samplesPerEpoch());
        for (int e = 0; e < 3; e++) {
            List<long[]> batches = epoch(loader);
            assertEquals(2, batches.size());
            batches.forEach(b -> assertEquals(4, b.length));
            long[] seen = flat(batches);
            assertEquals(8, Arrays.stream(seen).distinct().count(), "no sample twice in an epoch");
        }
    }

    @Test
    void shuffledEpochSeesEverySampleOnce() {
        DataLoader loader = DataLoader.builder(sn, ArrayDatasetTest.numbered(103, 2)).batchSize(16).shuffle(7).build();
        long[] prev = null;
        for (int e = 0; e < 3; e++) {
            long[] seen = flat(epoch(loader));
            long[] sorted = seen.clone();
            Arrays.sort(sorted);
            for (int i = 0; i < 103; i++) {
                assertEquals(i, sorted[i]);
            }
            if (prev != null) {
                assertFalse(Arrays.equals(prev, seen), "each epoch draws a new order");
            }
            prev = seen;
        }
    }

    @Test
    void sameSeedSameOrderDifferentSeedDifferentOrder() {
        ArrayDataset ds = ArrayDatasetTest.numbered(50, 1);
        DataLoader a = DataLoader.builder(sn, ds).batchSize(8).shuffle(42).build();
        DataLoader b = DataLoader.builder(sn, ds).batchSize(8).shuffle(new Generator(42)).build();
        DataLoader c = DataLoader.builder(sn, ds).batchSize(8).shuffle(43).build();
        for (int e = 0; e < 2; e++) {
            long[] ea = flat(epoch(a));
            long[] eb = flat(epoch(b));
            long[] ec = flat(epoch(c));
            assertArrayEquals(ea, eb);
            assertFalse(Arrays.equals(ea, ec));
            assertNotEquals(Arrays.toString(ea), Arrays.toString(java.util.stream.LongStream.range(0, 50).toArray()));
        }
    }

    @Test
    void batchTensorsBelongToTheCallersScope() {
        DataLoader loader = DataLoader.builder(sn, ArrayDatasetTest.numbered(4, 2)).batchSize(2).build();
        var it = loader.iterator();
        Batch b;
        try (var scope = sn.scope()) {
            b = it.next();
            assertFalse(b.x().isClosed());
        }
        assertTrue(b.x().isClosed());
        assertTrue(b.y().isClosed());
    }

    @Test
    void supersededIteratorFails() {
        DataLoader loader = DataLoader.builder(sn, ArrayDatasetTest.numbered(4, 2)).batchSize(2).build();
        var old = loader.iterator();
        loader.iterator();
        assertThrows(IllegalStateException.class, old::next);
    }

    @Test
    void badConfigurationsAreClearErrors() {
        ArrayDataset empty = new ArrayDataset(new float[0], new long[0], 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DataLoader.builder(sn, empty).batchSize(4).build());
        assertTrue(e.getMessage().contains("dataset is empty"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> DataLoader.builder(sn, ArrayDatasetTest.numbered(3, 1)).batchSize(0).build());
        assertTrue(e.getMessage().contains("batch size must be at least 1, got 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> DataLoader.builder(sn, ArrayDatasetTest.numbered(3, 1)).batchSize(4).lastBatch(LastBatch.DROP).build());
        assertTrue(e.getMessage().contains("every epoch would be empty"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(sn, null));
        assertThrows(IllegalArgumentException.class, () -> ArrayDatasetTest.numbered(3, 1).batch(sn));
    }

    @Test
    void datasetBatchByIndices() {
        try (var scope = sn.scope()) {
            Batch b = ArrayDatasetTest.numbered(6, 2).batch(sn, 5, 0);
            assertArrayEquals(new long[] {5, 0}, b.y().toLongArray());
            assertArrayEquals(new float[] {500, 501, 0, 1}, b.x().toFloatArray());
        }
    }
}
