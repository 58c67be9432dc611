package dev.sinew.bench.train;

/**
 * Hears what a {@link Trainer} is doing, for progress display. Called on the training thread;
 * implementations must be quick and must not touch the model's tensors.
 */
public interface TrainListener {
    /** Epoch {@code epoch} (1-based) starts: {@code steps} batches, {@code samples} samples. */
    default void epochStarted(int epoch, int steps, int samples) {
    }

    /**
     * A step finished.
     *
     * @param step 1-based step within the epoch
     * @param samplesSoFar samples trained on in this epoch so far
     * @param loss this step's mean loss
     * @param runningAccuracy fraction of this epoch's samples so far that the model classified right
     */
    default void stepDone(int epoch, int step, int samplesSoFar, double loss, double runningAccuracy) {
    }

    /** The epoch's training pass ended (evaluation follows). */
    default void epochTrained(int epoch) {
    }

    /** Hears nothing. */
    TrainListener NONE = new TrainListener() {
    };
}
