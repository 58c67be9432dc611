package dev.sinew.reference;

import dev.sinew.Sinew;
import dev.sinew.testing.RnnGoldenConformance;

/** Recurrent layers and cells on the reference backend against PyTorch's golden files. */
class ReferenceRnnGoldenTest extends RnnGoldenConformance {
    @Override
    protected Sinew createSinew() {
        return Sinew.use("reference");
    }
}
