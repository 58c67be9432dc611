/**
 * Test support shipped in core's test-jar, for every module's tests: the backend conformance suite
 * ({@link dev.sinew.testing.BackendConformance}: subclass it with {@code createBackend()} to check a
 * backend op by op against the reference backend), view layouts for strided/broadcast/sliced/permuted
 * operands ({@link dev.sinew.testing.Layout}), host round-trip helpers ({@link dev.sinew.testing.Views}),
 * seeded random data ({@link dev.sinew.testing.RandomData}) and the elementwise
 * {@code atol + rtol·|expected|} comparison ({@link dev.sinew.testing.Tolerance}); the PyTorch golden
 * suites ({@link dev.sinew.testing.ConvGoldenConformance}, {@link dev.sinew.testing.RnnGoldenConformance})
 * and the float64 gradient checks ({@link dev.sinew.testing.GradientConformance}), which take a
 * {@code Sinew} context, and the shared op configurations ({@link dev.sinew.testing.ConvCases},
 * {@link dev.sinew.testing.RnnCases}).
 */
package dev.sinew.testing;
