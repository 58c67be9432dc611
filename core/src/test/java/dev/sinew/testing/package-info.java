/**
 * Test support shipped in core's test-jar, for every module's tests: the backend conformance suite
 * ({@link dev.sinew.testing.BackendConformance}: subclass it with {@code createBackend()} to check a
 * backend op by op against the reference backend), view layouts for strided/broadcast/sliced/permuted
 * operands ({@link dev.sinew.testing.Layout}), host round-trip helpers ({@link dev.sinew.testing.Views}),
 * seeded random data ({@link dev.sinew.testing.RandomData}) and the elementwise
 * {@code atol + rtol·|expected|} comparison ({@link dev.sinew.testing.Tolerance}).
 */
package dev.sinew.testing;
