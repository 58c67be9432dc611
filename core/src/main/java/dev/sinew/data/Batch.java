package dev.sinew.data;

import dev.sinew.Tensor;

/**
 * One mini-batch: features {@code x} (FLOAT32, {@code [B, ...sampleShape]}) and class labels
 * {@code y} (INT64, {@code [B]}).
 *
 * <p>Ownership: both tensors were made with {@code Sinew.fromArray} in the scope that was current
 * on the calling thread when the batch was made (normally the training step's
 * {@code try (var scope = sn.scope())}), and are freed when that scope closes. Outside any scope
 * the caller owns them and closes them.
 */
public record Batch(Tensor x, Tensor y) {
    public Batch {
        if (x == null || y == null) {
            throw new IllegalArgumentException("Batch: x and y must not be null");
        }
    }

    /** Number of samples, {@code x.size(0)}. */
    public int size() {
        return (int) x.size(0);
    }
}
