package dev.sinew.reference;

import dev.sinew.Sinew;
import dev.sinew.testing.GradientConformance;

/** Every op's float64 gradient check on the reference backend. */
class ReferenceGradientTest extends GradientConformance {
    @Override
    protected Sinew createSinew() {
        return Sinew.use("reference");
    }
}
