package dev.sinew.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ArrayDatasetTest {
    /** n samples of d features; sample i holds i*100 + j and label i. */
    static ArrayDataset numbered(int n, int d) {
        float[] x = new float[n * d];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            y[i] = i;
            for (int j = 0; j < d; j++) {
                x[i * d + j] = i * 100 + j;
            }
        }
        return new ArrayDataset(x, y, d);
    }

    @Test
    void gathersRowsByIndex() {
        ArrayDataset ds = numbered(5, 3);
        float[] x = new float[6];
        long[] y = new long[2];
        ds.gather(new int[] {4, 1, 2}, 1, 2, x, y);
        assertArrayEquals(new float[] {100, 101, 102, 200, 201, 202}, x);
        assertArrayEquals(new long[] {1, 2}, y);
        assertEquals(5, ds.size());
        assertEquals(3, ds.sampleSize());
        assertArrayEquals(new long[] {3}, ds.sampleShape());
    }

    @Test
    void sliceSharesAndOffsets() {
        ArrayDataset s = numbered(10, 2).slice(8, 10);
        assertEquals(2, s.size());
        assertEquals(8, s.label(0));
        assertEquals(901f, s.feature(1, 1));
        float[] x = new float[2];
        long[] y = new long[1];
        s.gather(new int[] {1}, 0, 1, x, y);
        assertArrayEquals(new float[] {900, 901}, x);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.gather(new int[] {2}, 0, 1, x, y));
        assertTrue(e.getMessage().contains("index 2 is out of range [0, 2)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> numbered(10, 2).slice(5, 11));
    }

    @Test
    void rejectsBadArguments() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ArrayDataset(new float[5], new long[2], 3));
        assertTrue(e.getMessage().contains("need 6 feature floats, got 5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ArrayDataset(new float[0], new long[0], 0));
        assertThrows(IllegalArgumentException.class, () -> new ArrayDataset(new float[4], new long[1]));
        assertThrows(IllegalArgumentException.class, () -> numbered(3, 2).gather(new int[] {0, 1}, 0, 2, new float[3], new long[2]));
    }

    @Test
    void reshapesSamples() {
        ArrayDataset ds = numbered(2, 4).withSampleShape(1, 2, 2);
        assertArrayEquals(new long[] {1, 2, 2}, ds.sampleShape());
        assertEquals(4, ds.sampleSize());
        assertThrows(IllegalArgumentException.class, () -> ds.withSampleShape(3));
    }
}
