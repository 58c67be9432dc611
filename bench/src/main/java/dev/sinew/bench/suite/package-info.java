/**
 * {@code sinew bench}: the standard workloads ({@link dev.sinew.bench.suite.Workloads}), the timing
 * policy and statistics ({@link dev.sinew.bench.suite.SuiteRunner}, {@link dev.sinew.bench.suite.Stats}),
 * the machine's FMA peak ({@link dev.sinew.bench.suite.FmaProbe}), the PyTorch peer
 * ({@link dev.sinew.bench.suite.PytorchPeer}), the JSON report and its baseline comparison
 * ({@link dev.sinew.bench.suite.SuiteReport}, {@link dev.sinew.bench.suite.Baseline}) and the chart
 * ({@link dev.sinew.bench.suite.Chart}).
 */
package dev.sinew.bench.suite;
