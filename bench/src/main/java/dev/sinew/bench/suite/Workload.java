package dev.sinew.bench.suite;

import dev.sinew.Sinew;

/**
 * One standard workload: a fixed shape and a step to time. {@code gflopPerStep} is NaN where a
 * flop count is not meaningful (training steps, Adam, softmax); then throughput is
 * {@code itemsPerStep} per second in {@code itemUnit} (samples, parameters). The default warm-up
 * and repeat counts keep a default run of the whole suite within its time budget on a 2-core
 * machine; {@code heavy} marks work too slow for the reference backend in a default run.
 * Immutable; {@link #prepare} builds fresh state for each call.
 *
 * @param name         the case name, e.g. {@code gemm-1024} (also the PyTorch peer's case name)
 * @param group        the {@code --workloads} name it belongs to, e.g. {@code gemm}
 * @param description  what one step does, with shapes
 */
public record Workload(String name, String group, String description, double gflopPerStep, long itemsPerStep,
        String itemUnit, int defaultWarmup, int defaultRepeat, boolean heavy, Factory factory) {

    /** Builds a workload's state (tensors, modules) on a backend. */
    @FunctionalInterface
    public interface Factory {
        Step prepare(Sinew sn);
    }

    /** A prepared workload: {@link #run()} is one timed step; {@link #close()} frees its state. */
    public interface Step extends AutoCloseable {
        void run();

        @Override
        void close();
    }

    /** Whether throughput is reported in GFLOP/s. */
    public boolean hasFlops() {
        return !Double.isNaN(gflopPerStep);
    }
}
