package dev.sinew.spi;

import dev.sinew.Sinew;
import dev.sinew.testing.ConvGoldenConformance;

/**
 * The PyTorch golden files for convolution, pooling and batch norm, run through the composed
 * defaults ({@link ComposedConv}) with autograd on top: the defaults a backend inherits are correct
 * end to end, not only equal to the reference loops.
 */
class ComposedConvGoldenTest extends ConvGoldenConformance {
    @Override
    protected Sinew createSinew() {
        return Sinew.of(new ComposedOnlyBackend());
    }
}
