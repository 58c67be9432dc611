package dev.sinew.spi;

import dev.sinew.Sinew;
import dev.sinew.testing.RnnGoldenConformance;

/**
 * The PyTorch golden files for the recurrent layers, run through the composed default
 * ({@link ComposedRnn}, from primitives, with its reserve) with autograd on top: the default a backend
 * inherits is correct end to end, not only equal to the reference loops.
 */
class ComposedRnnGoldenTest extends RnnGoldenConformance {
    @Override
    protected Sinew createSinew() {
        return Sinew.of(new ComposedOnlyBackend());
    }
}
