package dev.sinew.cpu;

import dev.sinew.spi.Backend;
import dev.sinew.spi.BackendOptions;
import dev.sinew.testing.BackendConformance;

/**
 * The backend conformance suite (every primitive and fused op against the reference backend) on the
 * CPU backend with two threads, so the split paths of large ops run too.
 */
class CpuConformanceTest extends BackendConformance {
    @Override
    protected Backend createBackend() {
        return new CpuBackend(new BackendOptions(2, true));
    }
}
