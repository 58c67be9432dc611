package dev.sinew.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.spi.Distribution;
import dev.sinew.spi.Philox;
import org.junit.jupiter.api.Test;

/**
 * Philox4x32-10 against the known-answer vectors of Random123 ({@code kat_vectors}, philox4x32 with
 * 10 rounds), and the sampling functions built on it. Every backend's random fill must reproduce
 * these streams, so a wrong constant here would silently change every model's initialisation.
 */
class PhiloxTest {

    private static int[] block(int c0, int c1, int c2, int c3, int k0, int k1) {
        int[] out = new int[4];
        Philox.block(c0, c1, c2, c3, k0, k1, out);
        return out;
    }

    @Test
    void zeroCounterZeroKey() {
        int[] expected = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
        int[] out = new int[4];
        Philox.block(0L, 0L, out); // the 64-bit (seed, counter) entry point
        assertArrayEquals(expected, out);
        assertArrayEquals(expected, block(0, 0, 0, 0, 0, 0));
    }

    @Test
    void allOnesCounterAndKey() {
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}, block(-1, -1, -1, -1, -1, -1));
    }

    @Test
    void piDigitsCounterAndKey() {
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
                block(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0));
    }

    @Test
    void longEntryPointSplitsCounterAndSeedLowWordFirst() {
        long seed = 0x0123_4567_89AB_CDEFL;
        long counter = 0xFEDC_BA98_7654_3210L;
        int[] out = new int[4];
        Philox.block(seed, counter, out);
        assertArrayEquals(block(0x7654_3210, 0xFEDC_BA98, 0, 0, 0x89AB_CDEF, 0x0123_4567), out);
    }

    @Test
    void samplesHaveTheRightRangesAndMoments() {
        int n = 200_000;
        double sum = 0;
        double sumSq = 0;
        double usum = 0;
        long ones = 0;
        for (long i = 0; i < n; i++) {
            double u = Philox.uniform(7, i);
            assertTrue(u >= 0 && u < 1, "uniform in [0, 1): " + u);
            usum += u;
            double z = Philox.normal(7, i);
            sum += z;
            sumSq += z * z;
            ones += (long) Philox.sample(Distribution.BERNOULLI, 0.3, 0, 7, i);
            double w = Philox.sample(Distribution.UNIFORM, -2, 3, 7, i);
            assertTrue(w >= -2 && w < 3, "uniform in [-2, 3): " + w);
        }
        assertEquals(0.5, usum / n, 0.005);
        assertEquals(0.0, sum / n, 0.01);
        assertEquals(1.0, sumSq / n - (sum / n) * (sum / n), 0.02);
        assertEquals(0.3, ones / (double) n, 0.005);
        assertEquals(Philox.uniform(7, 12), Philox.uniform(7, 12), "a pure function of (seed, counter)");
        assertTrue(Philox.uniform(7, 12) != Philox.uniform(8, 12), "the seed matters");
    }
}
