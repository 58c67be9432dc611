package dev.sinew.data;

import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Cuts a {@link Dataset} into mini-batches, optionally in a seeded random order that changes
 * every epoch, and makes each batch as tensors with {@link Sinew#fromArray}.
 *
 * <pre>{@code
 * var loader = DataLoader.builder(sn, train).batchSize(128).shuffle(seed).lastBatch(LastBatch.KEEP).build();
 * for (int epoch = 0; epoch < epochs; epoch++) {
 *     var it = loader.iterator();          // one epoch, in a fresh order
 *     while (it.hasNext()) {
 *         try (var scope = sn.scope()) {
 *             Batch b = it.next();        // x, y belong to this step's scope
 *             ...
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p>Ownership: a batch's tensors are made in the scope current on the calling thread when
 * {@link Iterator#next()} runs (so call it inside the step's scope, as above; a plain for-each
 * loop makes them in whatever scope encloses the loop). The loader itself holds only Java arrays:
 * the sample order and two reused staging arrays (one full batch, one for a short last batch),
 * so iterating allocates no per-batch Java arrays. It needs no closing.
 *
 * <p>Shuffling: each call to {@link #iterator()} starts an epoch and, when shuffling, draws a
 * Fisher–Yates permutation from the loader's {@link Generator}, so two loaders built with the
 * same seed yield the same orders epoch after epoch. Without shuffling the order is 0..N-1.
 *
 * <p>Resuming: {@link #position()} says where the loader is (epoch, batch within it, and the
 * shuffling generator's state when that epoch's order was drawn); {@link #restore} puts a loader
 * over the same data back there, re-drawing the same order, so a resumed run sees the same batches
 * as one never interrupted. {@link #currentEpoch()} then gives the restored epoch's iterator.
 *
 * <p>Thread safety: not thread-safe; one epoch at a time (starting a new iterator invalidates the
 * previous one, which then fails with {@link IllegalStateException}).
 */
public final class DataLoader implements Iterable<Batch> {
    private final Sinew sn;
    private final Dataset dataset;
    private final int batchSize;
    private final Generator generator; // null: no shuffling
    private final LastBatch lastBatch;
    private final int[] order;
    private final long[] sampleShape;
    private final int sampleSize;
    // Reused staging arrays: fromArray copies them into tensor storage, so reuse is safe.
    private final float[] xFull;
    private final long[] yFull;
    private float[] xTail;
    private long[] yTail;
    private int epochCount;
    private int generation; // bumped by every iterator() and restore(): older iterators are superseded
    private EpochIterator current; // the epoch in progress, null before the first
    private long epochSeed; // the generator's state just before the current epoch's order was drawn
    private long epochOffset;

    /**
     * Where a loader is, for checkpoints: {@link #position()} makes one, {@link #restore} goes back
     * to it. Immutable.
     *
     * @param epoch     epochs started so far (the current epoch's 1-based number; 0 before the first)
     * @param batch     batches already returned in that epoch (its batch count when it is done)
     * @param batchSize the loader's batch size, checked on restore
     * @param samples   the dataset's size, checked on restore
     * @param shuffled  whether the loader shuffles, checked on restore
     * @param seed      the shuffling generator's seed just before the epoch's order was drawn (0 unshuffled)
     * @param offset    its offset then (0 unshuffled)
     */
    public record Position(int epoch, int batch, int batchSize, int samples, boolean shuffled, long seed,
            long offset) {
        public Position {
            if (epoch < 0 || batch < 0 || (epoch == 0 && batch != 0) || batchSize < 1 || samples < 1 || offset < 0) {
                throw new IllegalArgumentException("DataLoader.Position: inconsistent position: epoch " + epoch
                        + ", batch " + batch + ", batch size " + batchSize + ", samples " + samples + ", offset "
                        + offset);
            }
        }
    }

    private DataLoader(Builder b) {
        if (b.batchSize < 1) {
            throw new IllegalArgumentException("DataLoader: batch size must be at least 1, got " + b.batchSize);
        }
        int n = b.dataset.size();
        if (n == 0) {
            throw new IllegalArgumentException("DataLoader: the dataset is empty, there is nothing to batch");
        }
        if (b.lastBatch == LastBatch.DROP && n < b.batchSize) {
            throw new IllegalArgumentException("DataLoader: with last-batch policy DROP, batch size " + b.batchSize
                    + " and " + n + " samples every epoch would be empty");
        }
        this.sn = b.sn;
        this.dataset = b.dataset;
        this.batchSize = b.batchSize;
        this.generator = b.generator;
        this.lastBatch = b.lastBatch;
        this.order = new int[n];
        this.sampleShape = b.dataset.sampleShape();
        this.sampleSize = b.dataset.sampleSize();
        int full = Math.min(batchSize, n);
        this.xFull = new float[Math.multiplyExact(full, sampleSize)];
        this.yFull = new long[full];
    }

    /** Starts building a loader over {@code dataset} whose batches are made with {@code sn}. */
    public static Builder builder(Sinew sn, Dataset dataset) {
        if (sn == null || dataset == null) {
            throw new IllegalArgumentException("DataLoader.builder: sinew and dataset must not be null");
        }
        return new Builder(sn, dataset);
    }

    /** Options for a {@link DataLoader}: batch size 1, no shuffling, {@link LastBatch#KEEP}. */
    public static final class Builder {
        private final Sinew sn;
        private final Dataset dataset;
        private int batchSize = 1;
        private Generator generator;
        private LastBatch lastBatch = LastBatch.KEEP;

        private Builder(Sinew sn, Dataset dataset) {
            this.sn = sn;
            this.dataset = dataset;
        }

        /** Samples per batch; must be at least 1 (checked by {@link #build()}). */
        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        /** Shuffle every epoch with a generator the loader makes from {@code seed} and owns. */
        public Builder shuffle(long seed) {
            this.generator = new Generator(seed);
            return this;
        }

        /**
         * Shuffle every epoch drawing from {@code generator}, which the caller shares with the
         * loader (its state advances as epochs start); {@code null} turns shuffling off.
         */
        public Builder shuffle(Generator generator) {
            this.generator = generator;
            return this;
        }

        public Builder lastBatch(LastBatch policy) {
            if (policy == null) {
                throw new IllegalArgumentException("DataLoader: last-batch policy must not be null");
            }
            this.lastBatch = policy;
            return this;
        }

        /** @throws IllegalArgumentException on an empty dataset, a batch size below 1, or a DROP policy that leaves no batch */
        public DataLoader build() {
            return new DataLoader(this);
        }
    }

    public Dataset dataset() {
        return dataset;
    }

    public int batchSize() {
        return batchSize;
    }

    public LastBatch lastBatch() {
        return lastBatch;
    }

    public boolean shuffles() {
        return generator != null;
    }

    /** Batches per epoch. */
    public int numBatches() {
        int n = dataset.size();
        return lastBatch == LastBatch.DROP ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /** Samples per epoch (fewer than the dataset under {@link LastBatch#DROP}). */
    public int samplesPerEpoch() {
        return lastBatch == LastBatch.DROP ? numBatches() * batchSize : dataset.size();
    }

    /**
     * Starts an epoch: fixes its sample order (a fresh permutation when shuffling) and returns an
     * iterator over its batches. See the class comment for where the batch tensors belong.
     */
    @Override
    public EpochIterator iterator() {
        drawOrder();
        epochCount++;
        current = new EpochIterator(++generation); // after epochCount: it takes the epoch's number
        return current;
    }

    /** Fixes the order of a new epoch, noting the generator's state first (for {@link #position()}). */
    private void drawOrder() {
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        if (generator != null) {
            epochSeed = generator.seed();
            epochOffset = generator.offset();
            for (int i = order.length - 1; i > 0; i--) {
                int j = generator.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
    }

    /** The iterator of the epoch in progress (the last {@link #iterator()} or {@link #restore}), or null before the first. */
    public EpochIterator currentEpoch() {
        return current;
    }

    /** Where the loader is now: the epoch in progress and how many of its batches were returned. */
    public Position position() {
        if (current == null) {
            return new Position(0, 0, batchSize, dataset.size(), generator != null,
                    generator == null ? 0 : generator.seed(), generator == null ? 0 : generator.offset());
        }
        return new Position(epochCount, current.next, batchSize, dataset.size(), generator != null,
                generator == null ? 0 : epochSeed, generator == null ? 0 : epochOffset);
    }

    /**
     * Checks that {@link #restore} would accept {@code p}, changing nothing.
     *
     * @throws IllegalArgumentException naming the first mismatch: batch size, dataset size, shuffling,
     *                                  or a batch beyond the epoch's count
     */
    public void checkPosition(Position p) {
        if (p == null) {
            throw new IllegalArgumentException("DataLoader.restore: position must not be null");
        }
        if (p.batchSize() != batchSize) {
            throw new IllegalArgumentException("DataLoader.restore: the position is for batch size " + p.batchSize()
                    + ", this loader's is " + batchSize);
        }
        if (p.samples() != dataset.size()) {
            throw new IllegalArgumentException("DataLoader.restore: the position is for a dataset of " + p.samples()
                    + " samples, this loader's has " + dataset.size());
        }
        if (p.shuffled() != (generator != null)) {
            throw new IllegalArgumentException("DataLoader.restore: the position is for a loader that "
                    + (p.shuffled() ? "shuffles" : "does not shuffle") + ", this one "
                    + (generator != null ? "shuffles" : "does not"));
        }
        if (p.batch() > numBatches()) {
            throw new IllegalArgumentException("DataLoader.restore: batch " + p.batch() + " is beyond the "
                    + numBatches() + " batches of an epoch");
        }
    }

    /**
     * Puts the loader back at {@code p} (from {@link #position()} of a loader over the same data with
     * the same settings): sets the shuffling generator to its state at the start of {@code p}'s epoch,
     * re-draws that epoch's order, and makes {@link #currentEpoch()} an iterator that continues after
     * batch {@code p.batch()} (exhausted if the epoch was done). The next {@link #iterator()} starts the
     * following epoch exactly as the original loader's did. A position before any epoch only sets the
     * generator. Iterators made before are superseded.
     *
     * @throws IllegalArgumentException as {@link #checkPosition}; nothing changes then
     */
    public void restore(Position p) {
        checkPosition(p);
        if (p.epoch() == 0) {
            if (generator != null) {
                generator.setState(p.seed(), p.offset());
            }
            epochCount = 0;
            generation++;
            current = null;
            return;
        }
        if (generator != null) {
            generator.setState(p.seed(), p.offset());
        }
        drawOrder();
        epochCount = p.epoch();
        current = new EpochIterator(++generation);
        current.next = p.batch();
    }

    /** Iterates one epoch's batches; also says where it is, for progress reports. */
    public final class EpochIterator implements Iterator<Batch> {
        private final int generation;
        private final int epoch;
        private int next; // index of the next batch

        private EpochIterator(int generation) {
            this.generation = generation;
            this.epoch = epochCount;
        }

        /** This epoch's 1-based number. */
        public int epoch() {
            return epoch;
        }

        @Override
        public boolean hasNext() {
            return next < numBatches();
        }

        /** The next batch, made in the calling thread's current scope. */
        @Override
        public Batch next() {
            if (generation != DataLoader.this.generation) {
                throw new IllegalStateException("DataLoader: this epoch's iterator was superseded by a newer iterator() or restore()");
            }
            if (!hasNext()) {
                throw new NoSuchElementException("DataLoader: the epoch has no more batches (" + numBatches() + " in all)");
            }
            int from = next * batchSize;
            int count = Math.min(batchSize, order.length - from);
            float[] x;
            long[] y;
            if (count == yFull.length) {
                x = xFull;
                y = yFull;
            } else {
                if (yTail == null || yTail.length != count) {
                    xTail = new float[count * sampleSize];
                    yTail = new long[count];
                }
                x = xTail;
                y = yTail;
            }
            dataset.gather(order, from, count, x, y);
            next++;
            return toBatch(sn, x, y, count, sampleShape);
        }

        /** Batches already returned in this epoch. */
        public int batchesDone() {
            return next;
        }

        /** Batches in this epoch. */
        public int batchCount() {
            return numBatches();
        }
    }

    /** Makes the tensors of a batch from staging arrays of exactly {@code count} samples. */
    static Batch toBatch(Sinew sn, float[] x, long[] y, int count, long[] sampleShape) {
        long[] xShape = new long[sampleShape.length + 1];
        xShape[0] = count;
        System.arraycopy(sampleShape, 0, xShape, 1, sampleShape.length);
        Tensor xt = sn.fromArray(x, xShape);
        Tensor yt;
        try {
            yt = sn.fromArray(y, count);
        } catch (RuntimeException e) {
            xt.close();
            throw e;
        }
        return new Batch(xt, yt);
    }
}
