package dev.sinew.data;

import java.util.Arrays;

/**
 * An in-memory dataset of float features {@code [N, ...sampleShape]} and long class labels
 * {@code [N]}, held in plain Java arrays.
 *
 * <p>Ownership: the constructor takes the arrays without copying them; the caller must not
 * modify them afterwards. {@link #slice} makes views that share them. Instances are immutable
 * from the outside and safe to read from several threads.
 */
public final class ArrayDataset implements Dataset {
    private final float[] features; // [N_total, D], row-major
    private final long[] labels; // [N_total]
    private final long[] sampleShape;
    private final int sampleSize; // D
    private final int offset; // first sample of this view
    private final int size; // samples in this view

    /**
     * A dataset over all of {@code features} and {@code labels}.
     *
     * @param features {@code labels.length * product(sampleShape)} floats, sample after sample
     * @param labels one label per sample
     * @param sampleShape the shape of one sample, e.g. {@code 784} or {@code 1, 28, 28}; every size positive
     * @throws IllegalArgumentException if the lengths disagree or a size is not positive
     */
    public ArrayDataset(float[] features, long[] labels, long... sampleShape) {
        if (features == null || labels == null) {
            throw new IllegalArgumentException("ArrayDataset: features and labels must not be null");
        }
        if (sampleShape.length == 0) {
            throw new IllegalArgumentException("ArrayDataset: sample shape must have at least one dimension");
        }
        long d = 1;
        for (long s : sampleShape) {
            if (s <= 0) {
                throw new IllegalArgumentException("ArrayDataset: sample shape " + Arrays.toString(sampleShape)
                        + " has a size below 1");
            }
            d = Math.multiplyExact(d, s);
        }
        if (d > Integer.MAX_VALUE || (long) labels.length * d != features.length) {
            throw new IllegalArgumentException("ArrayDataset: " + labels.length + " labels with sample shape "
                    + Arrays.toString(sampleShape) + " need " + (long) labels.length * d + " feature floats, got "
                    + features.length);
        }
        this.features = features;
        this.labels = labels;
        this.sampleShape = sampleShape.clone();
        this.sampleSize = (int) d;
        this.offset = 0;
        this.size = labels.length;
    }

    private ArrayDataset(ArrayDataset base, int offset, int size) {
        this.features = base.features;
        this.labels = base.labels;
        this.sampleShape = base.sampleShape;
        this.sampleSize = base.sampleSize;
        this.offset = offset;
        this.size = size;
    }

    /**
     * Samples {@code [from, to)} of this dataset, sharing its arrays (no copy).
     *
     * @throws IllegalArgumentException unless {@code 0 <= from <= to <= size()}
     */
    public ArrayDataset slice(int from, int to) {
        if (from < 0 || to < from || to > size) {
            throw new IllegalArgumentException("ArrayDataset.slice: [" + from + ", " + to
                    + ") is not a range within [0, " + size + ")");
        }
        return new ArrayDataset(this, offset + from, to - from);
    }

    /**
     * The same samples seen with another sample shape of the same element count, e.g.
     * {@code [784]} as {@code [1, 28, 28]} for a convolutional model. Shares the arrays.
     */
    public ArrayDataset withSampleShape(long... shape) {
        ArrayDataset whole = new ArrayDataset(features, labels, shape);
        if (whole.sampleSize != sampleSize) {
            throw new IllegalArgumentException("ArrayDataset.withSampleShape: " + Arrays.toString(shape) + " has "
                    + whole.sampleSize + " elements, samples have " + sampleSize);
        }
        return new ArrayDataset(whole, offset, size);
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public long[] sampleShape() {
        return sampleShape.clone();
    }

    @Override
    public int sampleSize() {
        return sampleSize;
    }

    /** Label of sample {@code i}. */
    public long label(int i) {
        checkIndex(i);
        return labels[offset + i];
    }

    /** Feature {@code j} of sample {@code i}. */
    public float feature(int i, int j) {
        checkIndex(i);
        if (j < 0 || j >= sampleSize) {
            throw new IllegalArgumentException("feature index " + j + " is out of range [0, " + sampleSize + ")");
        }
        return features[(offset + i) * sampleSize + j];
    }

    @Override
    public void gather(int[] indices, int from, int count, float[] dstFeatures, long[] dstLabels) {
        if (from < 0 || count < 0 || from + count > indices.length) {
            throw new IllegalArgumentException("Dataset.gather: range [" + from + ", " + (from + count)
                    + ") is outside the " + indices.length + "-element index array");
        }
        if ((long) count * sampleSize > dstFeatures.length || count > dstLabels.length) {
            throw new IllegalArgumentException("Dataset.gather: " + count + " samples of " + sampleSize
                    + " floats do not fit staging arrays of " + dstFeatures.length + " floats and "
                    + dstLabels.length + " labels");
        }
        for (int k = 0; k < count; k++) {
            int i = indices[from + k];
            checkIndex(i);
            System.arraycopy(features, (offset + i) * sampleSize, dstFeatures, k * sampleSize, sampleSize);
            dstLabels[k] = labels[offset + i];
        }
    }

    private void checkIndex(int i) {
        if (i < 0 || i >= size) {
            throw new IllegalArgumentException("dataset index " + i + " is out of range [0, " + size + ")");
        }
    }

    @Override
    public String toString() {
        return "ArrayDataset[" + size + " samples of " + Arrays.toString(sampleShape) + "]";
    }
}
