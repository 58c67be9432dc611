package dev.sinew.bench.train;

import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.data.Batch;
import dev.sinew.data.DataLoader;
import dev.sinew.data.Dataset;
import dev.sinew.data.LastBatch;
import dev.sinew.nn.Losses;
import dev.sinew.nn.Module;
import dev.sinew.nn.Reduction;
import dev.sinew.optim.Optimizer;

/**
 * The classification training loop that {@code sinew train} and the benchmarks share: for each
 * batch, in its own scope, zero the gradients, forward, mean cross-entropy, backward, optimiser
 * step; then evaluation without gradients.
 *
 * <p>Ownership: the trainer borrows the {@link Sinew}, the model and the optimiser; the caller
 * closes them. Every tensor a step makes lives in that step's {@code sn.scope()} and is freed when
 * the step ends, so memory stays flat however long the run. Not thread-safe.
 */
public final class Trainer {
    private final Sinew sn;
    private final Module model;
    private final Optimizer optimizer;
    private final int maxSteps;

    public Trainer(Sinew sn, Module model, Optimizer optimizer) {
        this(sn, model, optimizer, 0);
    }

    /**
     * @param maxSteps end each training pass after at most this many steps (0: every batch), for smoke
     *                 runs on large data
     */
    public Trainer(Sinew sn, Module model, Optimizer optimizer, int maxSteps) {
        if (sn == null || model == null || optimizer == null) {
            throw new IllegalArgumentException("Trainer: sinew, model and optimizer must not be null");
        }
        this.sn = sn;
        this.model = model;
        this.optimizer = optimizer;
        if (maxSteps < 0) {
            throw new IllegalArgumentException("Trainer: maxSteps must be >= 0, got " + maxSteps);
        }
        this.maxSteps = maxSteps;
    }

    /** The result of one training pass. */
    public record Pass(double meanLoss, double accuracy, int samples, int steps, double seconds) {
    }

    /**
     * The running sums of an epoch's training pass, so that a pass resumed from a checkpoint reports
     * the same epoch figures as one never interrupted.
     *
     * @param lossSum sum over the samples so far of the per-sample loss
     * @param correct samples classified right so far
     * @param samples samples trained on so far
     * @param steps   steps done so far
     * @param seconds training time so far
     */
    public record EpochProgress(double lossSum, long correct, int samples, int steps, double seconds) {
        /** The start of an epoch. */
        public static final EpochProgress START = new EpochProgress(0, 0, 0, 0, 0);
    }

    /** Called after every training step, inside the epoch (e.g. to save a checkpoint). */
    @FunctionalInterface
    public interface StepHook {
        /**
         * @param epoch    1-based epoch
         * @param soFar    the epoch's sums including this step
         * @param lastStep whether this was the epoch's last step
         */
        void afterStep(int epoch, EpochProgress soFar, boolean lastStep);

        /** Does nothing. */
        StepHook NONE = (epoch, soFar, lastStep) -> {
        };
    }

    /**
     * One pass over {@code loader} (which draws a fresh order when it shuffles).
     *
     * @param epoch 1-based, for the listener and messages
     * @throws IllegalStateException if the loss stops being finite (the run diverged)
     */
    public Pass trainEpoch(DataLoader loader, int epoch, TrainListener listener) {
        return trainEpoch(loader, loader.iterator(), epoch, EpochProgress.START, listener, StepHook.NONE);
    }

    /**
     * The rest of an epoch's pass: the batches {@code it} still has (all of them for a fresh epoch; the
     * remainder for one restored from a checkpoint, whose sums so far are {@code start}), calling
     * {@code hook} after each step.
     *
     * @param it    an epoch of {@code loader}
     * @param epoch 1-based, for the listener and messages
     * @throws IllegalStateException if the loss stops being finite (the run diverged)
     */
    public Pass trainEpoch(DataLoader loader, DataLoader.EpochIterator it, int epoch, EpochProgress start,
            TrainListener listener, StepHook hook) {
        model.train();
        if (start.steps() == 0) {
            listener.epochStarted(epoch, loader.numBatches(), loader.samplesPerEpoch());
        } else {
            listener.epochResumed(epoch, loader.numBatches(), loader.samplesPerEpoch(), start.steps(), start.samples());
        }
        double lossSum = start.lossSum(); // sum over samples of the per-sample loss
        long correct = start.correct();
        int seen = start.samples();
        int step = start.steps();
        long t0 = System.nanoTime();
        while (it.hasNext() && (maxSteps == 0 || step < maxSteps)) {
            double loss;
            long right;
            int n;
            try (var scope = sn.scope()) {
                Batch b = it.next();
                n = b.size();
                optimizer.zeroGrad();
                Tensor logits = model.forward(b.x()); // [B, C]
                Tensor lossT = Losses.crossEntropy(logits, b.y()); // [] mean over the batch
                lossT.backward();
                optimizer.step();
                loss = lossT.item();
                try (var ng = sn.noGrad()) {
                    right = (long) logits.argmax(1).eq(b.y()).sum().item();
                }
            }
            step++;
            if (!Double.isFinite(loss)) {
                throw new IllegalStateException("training diverged: the loss is " + loss + " at epoch " + epoch
                        + ", step " + step + " (try a smaller --lr)");
            }
            lossSum += loss * n;
            correct += right;
            seen += n;
            listener.stepDone(epoch, step, seen, loss, (double) correct / seen);
            hook.afterStep(epoch, new EpochProgress(lossSum, correct, seen, step,
                    start.seconds() + (System.nanoTime() - t0) / 1e9), !it.hasNext());
        }
        double seconds = start.seconds() + (System.nanoTime() - t0) / 1e9;
        listener.epochTrained(epoch);
        return new Pass(lossSum / seen, (double) correct / seen, seen, step, seconds);
    }

    /**
     * Mean cross-entropy and accuracy of the model on {@code data}, in evaluation mode and without
     * gradients, {@code batchSize} samples at a time. Leaves the model in evaluation mode.
     */
    public Evaluation evaluate(Dataset data, int batchSize) {
        model.eval();
        DataLoader loader = DataLoader.builder(sn, data).batchSize(batchSize).lastBatch(LastBatch.KEEP).build();
        double lossSum = 0;
        long correct = 0;
        int seen = 0;
        try (var ng = sn.noGrad()) {
            var it = loader.iterator();
            while (it.hasNext()) {
                try (var scope = sn.scope()) {
                    Batch b = it.next();
                    Tensor logits = model.forward(b.x()); // [B, C]
                    lossSum += Losses.crossEntropy(logits, b.y(), Reduction.SUM).item();
                    correct += (long) logits.argmax(1).eq(b.y()).sum().item();
                    seen += b.size();
                }
            }
        }
        return new Evaluation(lossSum / seen, (double) correct / seen, seen);
    }
}
