package dev.sinew.reference;

import dev.sinew.Sinew;
import dev.sinew.testing.ConvGoldenConformance;

/** Convolution, pooling and batch norm on the reference backend against PyTorch's golden files. */
class ReferenceConvGoldenTest extends ConvGoldenConformance {
    @Override
    protected Sinew createSinew() {
        return Sinew.use("reference");
    }
}
