package dev.sinew.spi;

import dev.sinew.testing.BackendConformance;

/**
 * The whole conformance suite run on {@link ComposedOnlyBackend} (reference primitives, every fused op
 * the composed default): the defaults a new backend inherits — in particular the recurrent op of
 * {@link ComposedRnn}, with its reserve — agree with the reference backend, whose plain loops
 * ({@code ReferenceConv}, {@code ReferenceRnn}) define convolution, pooling and the recurrent layers.
 */
class ComposedConformanceTest extends BackendConformance {
    @Override
    protected Backend createBackend() {
        return new ComposedOnlyBackend();
    }
}
