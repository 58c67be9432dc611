package dev.sinew.cpu;

import dev.sinew.Sinew;
import dev.sinew.spi.BackendOptions;
import dev.sinew.testing.GradientConformance;

/** The float64 gradient check of every differentiable op, on the CPU backend with two threads. */
class CpuGradientTest extends GradientConformance {
    @Override
    protected Sinew createSinew() {
        return Sinew.of(new CpuBackend(new BackendOptions(2, true)));
    }
}
