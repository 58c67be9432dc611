package dev.sinew.data;

/** What a {@link DataLoader} does with the final batch when the dataset size is not a multiple of the batch size. */
public enum LastBatch {
    /** Yield the smaller final batch, so every sample is seen once per epoch. */
    KEEP,
    /** Leave the remainder out, so every batch has exactly the batch size. */
    DROP
}
