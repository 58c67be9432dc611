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
     * Epoch {@code epoch} continues from a checkpoint, with {@code stepsDone} of its {@code steps}
     * batches ({@code samplesDone} samples) already trained before. By default the same as
     * {@link #epochStarted}.
     */
    default void epochResumed(int epoch, int steps, int samples, int stepsDone, int samplesDone) {
        epochStarted(epoch, steps, samples);
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

    /** Tells {@code first}, then {@code second}. */
    static TrainListener both(TrainListener first, TrainListener second) {
        return new TrainListener() {
            @Override
            public void epochStarted(int epoch, int steps, int samples) {
                first.epochStarted(epoch, steps, samples);
                second.epochStarted(epoch, steps, samples);
            }

            @Override
            public void epochResumed(int epoch, int steps, int samples, int stepsDone, int samplesDone) {
                first.epochResumed(epoch, steps, samples, stepsDone, samplesDone);
                second.epochResumed(epoch, steps, samples, stepsDone, samplesDone);
            }

            @Override
            public void stepDone(int epoch, int step, int samplesSoFar, double loss, double runningAccuracy) {
                first.stepDone(epoch, step, samplesSoFar, loss, runningAccuracy);
                second.stepDone(epoch, step, samplesSoFar, loss, runningAccuracy);
            }

            @Override
            public void epochTrained(int epoch) {
                first.epochTrained(epoch);
                second.epochTrained(epoch);
            }
        };
    }
}
