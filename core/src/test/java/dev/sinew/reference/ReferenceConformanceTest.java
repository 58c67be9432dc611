package dev.sinew.reference;

import dev.sinew.spi.Backend;
import dev.sinew.testing.BackendConformance;

/**
 * The conformance suite run on a second reference instance: a sanity check of the suite itself
 * (every case must pass exactly against its own definition) and of the reference's bookkeeping.
 */
class ReferenceConformanceTest extends BackendConformance {
    @Override
    protected Backend createBackend() {
        return new ReferenceBackend();
    }
}
