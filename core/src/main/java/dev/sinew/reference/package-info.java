/**
 * The reference backend: plain Java loops with double accumulation, the living definition of
 * every op's semantics. {@link dev.sinew.reference.ReferenceBackend} implements the primitive tier
 * of the SPI and, of the fused tier, convolution and pooling ({@code ReferenceConv}) and the
 * whole-sequence recurrent layers ({@code ReferenceRnn}, evaluated in double) as plain loops; the
 * other fused ops it inherits from the composed defaults. The conformance suite in
 * core's test-jar ({@code dev.sinew.testing.BackendConformance}) checks every other backend against
 * exactly these loops. {@link dev.sinew.reference.ReferenceProvider} registers it (name
 * {@code "reference"}, priority 0, always available).
 */
package dev.sinew.reference;
