package dev.sinew.data;

import dev.sinew.Sinew;

/**
 * A finite, indexable set of labelled samples: each sample is a float feature block of shape
 * {@link #sampleShape()} and one class label.
 *
 * <p>Implementations hold their data in plain Java memory (not tensors), so a dataset needs no
 * closing and can be shared between loaders and threads as long as nobody mutates it.
 */
public interface Dataset {
    /** Number of samples. */
    int size();

    /** The shape of one sample's features, e.g. {@code [784]} or {@code [1, 28, 28]}; a fresh array. */
    long[] sampleShape();

    /** Floats per sample: the product of {@link #sampleShape()}. */
    default int sampleSize() {
        long n = 1;
        for (long d : sampleShape()) {
            n *= d;
        }
        return Math.toIntExact(n);
    }

    /**
     * Copies samples {@code indices[from .. from + count)} into caller-owned staging arrays:
     * features row after row into {@code features[0 .. count * sampleSize())}, labels into
     * {@code labels[0 .. count)}. Allocates nothing.
     *
     * @throws IllegalArgumentException if an index is out of range or an array is too small
     */
    void gather(int[] indices, int from, int count, float[] features, long[] labels);

    /**
     * The samples at {@code indices} as a {@link Batch} made in the current scope of {@code sn}
     * (see {@link Batch} for ownership). Allocates its own staging arrays; a {@link DataLoader}
     * reuses them instead.
     */
    default Batch batch(Sinew sn, int... indices) {
        if (indices.length == 0) {
            throw new IllegalArgumentException("Dataset.batch: empty index array, a batch needs at least one sample");
        }
        int d = sampleSize();
        float[] x = new float[Math.multiplyExact(indices.length, d)];
        long[] y = new long[indices.length];
        gather(indices, 0, indices.length, x, y);
        return DataLoader.toBatch(sn, x, y, indices.length, sampleShape());
    }
}
