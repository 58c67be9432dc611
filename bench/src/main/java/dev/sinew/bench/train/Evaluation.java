package dev.sinew.bench.train;

/**
 * A model's loss and accuracy on a dataset.
 *
 * @param loss mean loss per sample
 * @param accuracy fraction classified right, in [0, 1]
 * @param samples number of samples
 */
public record Evaluation(double loss, double accuracy, int samples) {
}
