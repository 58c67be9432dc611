package dev.sinew.cpu;

import dev.sinew.Sinew;
import dev.sinew.spi.BackendOptions;
import dev.sinew.testing.ConvGoldenConformance;

/** The convolution, pooling and batch norm against PyTorch's golden files, on the CPU backend with two threads. */
class CpuConvGoldenTest extends ConvGoldenConformance {
    @Override
    protected Sinew createSinew() {
        return Sinew.of(new CpuBackend(new BackendOptions(2, true)));
    }
}
