package dev.sinew;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.nn.Linear;
import dev.sinew.nn.Losses;
import dev.sinew.nn.ReLU;
import dev.sinew.nn.Sequential;
import dev.sinew.optim.Adam;
import dev.sinew.spi.Backend;
import org.junit.jupiter.api.Test;

/**
 * A training loop holds steady memory: after warm-up, every step ends with the same number of live
 * buffers and bytes, and the pool's peak stops growing (a per-step leak would grow all three).
 */
class MemorySteadyTest {
    @Test
    void trainingLoopHoldsSteadyMemory() {
        try (Sinew sn = Sinew.use("reference")) {
            Backend b = sn.backend();
            Generator g = new Generator(3);
            long[] buffers = new long[3];
            long[] bytes = new long[3];
            long[] peak = new long[3];
            try (Sequential model = new Sequential(new Linear(sn, 12, 16, g), new ReLU(), new Linear(sn, 16, 4, g));
                    Adam opt = new Adam(model.parameters(), 1e-2)) {
                Tensor x = sn.randn(g, DType.FLOAT32, 8, 12).detachFromScope();
                Tensor y = sn.fromArray(new long[] {0, 1, 2, 3, 3, 2, 1, 0}, 8).detachFromScope();
                int[] marks = {20, 200, 1000};
                int m = 0;
                double first = Double.NaN;
                double last = Double.NaN;
                for (int step = 1; step <= 1000; step++) {
                    try (Scope s = sn.scope()) {
                        opt.zeroGrad();
                        Tensor loss = Losses.crossEntropy(model.forward(x), y);
                        loss.backward();
                        opt.step();
                        last = loss.item();
                        if (step == 1) {
                            first = last;
                        }
                    }
                    if (step == marks[m]) {
                        buffers[m] = b.liveBuffers();
                        bytes[m] = b.liveBytes();
                        peak[m] = b.peakBytes();
                        m = Math.min(m + 1, marks.length - 1);
                    }
                }
                assertTrue(last < first * 0.5, "the loop should learn: loss " + first + " -> " + last);
                x.close();
                y.close();
            }
            assertEquals(buffers[0], buffers[1], "live buffers after step 20 vs 200");
            assertEquals(buffers[1], buffers[2], "live buffers after step 200 vs 1000");
            assertEquals(bytes[0], bytes[2], "live bytes after step 20 vs 1000");
            assertEquals(peak[1], peak[2], "pool peak after step 200 vs 1000");
            assertEquals(0, b.liveBuffers(), "everything closed at the end");
            assertEquals(0, b.leakedBuffers(), "nothing reached the leak detector");
        }
    }
}
