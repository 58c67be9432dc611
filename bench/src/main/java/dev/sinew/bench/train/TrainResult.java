package dev.sinew.bench.train;

import java.util.List;

/**
 * The outcome of a {@link TrainRun}.
 *
 * @param config what was trained
 * @param backend the backend's name
 * @param threads threads the backend was asked to use
 * @param dataTag a short tag for the data source ({@code system}, {@code bundled-test-split}, ...)
 * @param dataDescription one line saying which data was used
 * @param testSamples samples in the test split
 * @param epochs per-epoch figures, in order
 * @param seconds wall time of all epochs, training and evaluation (not data loading)
 */
public record TrainResult(TrainConfig config, String backend, int threads, String dataTag, String dataDescription,
        int testSamples, List<EpochStats> epochs, double seconds) {
    public TrainResult {
        epochs = List.copyOf(epochs);
        if (epochs.isEmpty()) {
            throw new IllegalArgumentException("TrainResult: no epochs");
        }
    }

    public EpochStats last() {
        return epochs.get(epochs.size() - 1);
    }

    /** Mean training loss of the last epoch. */
    public double trainLoss() {
        return last().trainLoss();
    }

    /** Test accuracy after the last epoch, in [0, 1]. */
    public double testAccuracy() {
        return last().testAccuracy();
    }

    /** Training samples per second over all epochs (training passes only). */
    public double samplesPerSecond() {
        double s = 0;
        long n = 0;
        for (EpochStats e : epochs) {
            s += e.trainSeconds();
            n += e.trainSamples();
        }
        return s > 0 ? n / s : 0;
    }
}
