package dev.sinew.bench.train;

/**
 * What one epoch did.
 *
 * @param epoch 1-based epoch number
 * @param trainLoss mean training loss over the epoch's samples
 * @param trainAccuracy fraction of the epoch's training samples classified right (while training)
 * @param testLoss mean loss on the test split after the epoch
 * @param testAccuracy fraction of the test split classified right after the epoch, in [0, 1]
 * @param trainSamples samples trained on
 * @param trainSeconds wall time of the training pass
 * @param evalSeconds wall time of the evaluation
 */
public record EpochStats(int epoch, double trainLoss, double trainAccuracy, double testLoss, double testAccuracy,
        int trainSamples, double trainSeconds, double evalSeconds) {
    /** Training throughput of this epoch. */
    public double samplesPerSecond() {
        return trainSeconds > 0 ? trainSamples / trainSeconds : 0;
    }
}
