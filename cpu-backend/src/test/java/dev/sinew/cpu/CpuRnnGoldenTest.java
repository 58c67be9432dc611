package dev.sinew.cpu;

import dev.sinew.Sinew;
import dev.sinew.spi.BackendOptions;
import dev.sinew.testing.RnnGoldenConformance;

/** The recurrent layers and cells against PyTorch's golden files, on the CPU backend with two threads. */
class CpuRnnGoldenTest extends RnnGoldenConformance {
    @Override
    protected Sinew createSinew() {
        return Sinew.of(new CpuBackend(new BackendOptions(2, true)));
    }
}
