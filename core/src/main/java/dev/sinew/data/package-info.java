/**
 * Data loading: the {@link dev.sinew.data.Idx} file reader (MNIST's format, raw or gzip), the
 * {@link dev.sinew.data.Dataset} interface and its in-memory {@link dev.sinew.data.ArrayDataset},
 * the {@link dev.sinew.data.DataLoader} that cuts a dataset into seeded-shuffled mini-batches
 * ({@link dev.sinew.data.Batch}, with a {@link dev.sinew.data.LastBatch} policy), and
 * {@link dev.sinew.data.FashionMnist}, which finds and loads that dataset.
 *
 * <p>Datasets hold plain Java arrays and need no closing; tensors appear only when a loader makes
 * a batch, in the caller's current scope. Bad files are reported as {@link java.io.IOException}s
 * whose one-line message starts with the file's path.
 */
package dev.sinew.data;
