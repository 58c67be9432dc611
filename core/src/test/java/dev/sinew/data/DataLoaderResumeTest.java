package dev.sinew.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.Sinew;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link DataLoader#position()} and {@link DataLoader#restore}: a restored loader yields what the original would have. */
class DataLoaderResumeTest {
    private Sinew sn;

    @BeforeEach
    void open() {
        sn = Sinew.use("reference");
    }

    @AfterEach
    void close() {
        sn.close();
    }

    private DataLoader loader(boolean shuffle) {
        var b = DataLoader.builder(sn, ArrayDatasetTest.numbered(10, 2)).batchSize(4);
        return (shuffle ? b.shuffle(11) : b).build();
    }

    private long[] nextLabels(DataLoader.EpochIterator it) {
        try (var _ = sn.scope()) {
            return it.next().y().toLongArray();
        }
    }

    /** The rest of the current epoch and {@code epochs} more, as label arrays. */
    private List<long[]> rest(DataLoader l, DataLoader.EpochIterator it, int epochs) {
        List<long[]> out = new ArrayList<>();
        while (it != null && it.hasNext()) {
            out.add(nextLabels(it));
        }
        for (int e = 0; e < epochs; e++) {
            var next = l.iterator();
            while (next.hasNext()) {
                out.add(nextLabels(next));
            }
        }
        return out;
    }

    private static void assertSameBatches(List<long[]> a, List<long[]> b) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i), b.get(i), "batch " + i);
        }
    }

    @Test
    void restoredMidEpochContinuesWithTheSameBatches() {
        for (boolean shuffle : new boolean[] {true, false}) {
            DataLoader a = loader(shuffle);
            rest(a, null, 1); // one whole epoch first
            var it = a.iterator();
            nextLabels(it);
            DataLoader.Position p = a.position();
            assertEquals(2, p.epoch());
            assertEquals(1, p.batch());
            assertEquals(4, p.batchSize());
            assertEquals(10, p.samples());
            assertEquals(shuffle, p.shuffled());

            DataLoader b = loader(shuffle);
            b.restore(p);
            assertEquals(p, b.position());
            assertEquals(2, b.currentEpoch().epoch());
            assertEquals(1, b.currentEpoch().batchesDone());
            assertSameBatches(rest(a, it, 2), rest(b, b.currentEpoch(), 2));
        }
    }

    @Test
    void restoredAtAnEpochEndStartsTheNextEpochAsTheOriginal() {
        DataLoader a = loader(true);
        rest(a, a.iterator(), 0);
        DataLoader.Position p = a.position();
        assertEquals(new DataLoader.Position(1, 3, 4, 10, true, p.seed(), p.offset()), p);
        DataLoader b = loader(true);
        b.restore(p);
        assertFalse(b.currentEpoch().hasNext());
        assertSameBatches(rest(a, null, 2), rest(b, null, 2));
    }

    @Test
    void aPositionBeforeAnyEpochOnlySetsTheGenerator() {
        DataLoader a = loader(true);
        DataLoader.Position p = a.position();
        assertEquals(0, p.epoch());
        DataLoader b = loader(true);
        rest(b, b.iterator(), 0);
        b.restore(p);
        assertNull(b.currentEpoch());
        assertSameBatches(rest(a, null, 2), rest(b, null, 2));
    }

    @Test
    void restoreSupersedesOlderIterators() {
        DataLoader a = loader(true);
        var it = a.iterator();
        a.restore(a.position());
        assertThrows(IllegalStateException.class, () -> nextLabels(it));
        assertTrue(a.currentEpoch().hasNext());
    }

    @Test
    void mismatchedPositionsAreRefusedNamingTheDifference() {
        DataLoader a = loader(true);
        a.iterator();
        DataLoader.Position p = a.position();
        DataLoader other = DataLoader.builder(sn, ArrayDatasetTest.numbered(10, 2)).batchSize(5).shuffle(11).build();
        var e = assertThrows(IllegalArgumentException.class, () -> other.restore(p));
        assertTrue(e.getMessage().contains("batch size 4, this loader's is 5"), e.getMessage());
        DataLoader bigger = DataLoader.builder(sn, ArrayDatasetTest.numbered(12, 2)).batchSize(4).shuffle(11).build();
        e = assertThrows(IllegalArgumentException.class, () -> bigger.restore(p));
        assertTrue(e.getMessage().contains("dataset of 10 samples, this loader's has 12"), e.getMessage());
        DataLoader ordered = loader(false);
        e = assertThrows(IllegalArgumentException.class, () -> ordered.restore(p));
        assertTrue(e.getMessage().contains("shuffles"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> a.restore(new DataLoader.Position(1, 4, 4, 10, true, 0, 0)));
        assertTrue(e.getMessage().contains("batch 4 is beyond the 3 batches"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DataLoader.Position(0, 1, 4, 10, true, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new DataLoader.Position(1, 0, 4, 10, true, 0, -1));
        assertEquals(p, a.position(), "a refused restore changes nothing");
    }
}
