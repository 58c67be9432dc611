package dev.sinew.bench.train;

import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.data.DataLoader;
import dev.sinew.data.FashionMnist;
import dev.sinew.data.LastBatch;
import dev.sinew.io.Checkpoint;
import dev.sinew.io.CheckpointWriter;
import dev.sinew.io.TrainingState;
import dev.sinew.nn.Module;
import dev.sinew.optim.Optimizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A whole classification run: build the model and optimiser, then for each epoch train on
 * {@code data.train()} (shuffled, seeded) and evaluate on {@code data.test()}; optionally saving
 * checkpoints ({@link CheckpointWriter}) and resuming from one ({@link Checkpoint}).
 *
 * <p>Stateless; everything the run makes (model, optimiser, every step's tensors) is closed before
 * {@link #run} returns. The {@link Sinew} stays the caller's.
 */
public final class TrainRun {
    /** Mixed into the seed for the shuffling generator, so it differs from the initialisation stream. */
    private static final long SHUFFLE_SALT = 0x9E3779B97F4A7C15L;

    private TrainRun() {
    }

    /**
     * Trains {@code config.model()} on {@code data} with {@code sn}.
     *
     * @param threads the thread count the backend was opened with (reported only)
     * @param listener hears every step (progress display)
     * @param onEpoch called after each epoch's evaluation
     */
    public static TrainResult run(Sinew sn, int threads, TrainConfig config, FashionMnist data, TrainListener listener,
            Consumer<EpochStats> onEpoch) {
        try {
            return run(sn, threads, config, data, listener, onEpoch, null, 0, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // not reached: without checkpoints nothing is read or written
        }
    }

    /**
     * Trains {@code config.model()} on {@code data} with {@code sn}, saving checkpoints and resuming
     * from one.
     *
     * <p>With a {@code writer}, a checkpoint is saved after every {@code every} optimiser steps (or,
     * with {@code every == 0}, after every epoch) and after the last epoch; a save that falls on an
     * epoch's last step waits until the epoch has been evaluated, so it holds that epoch's figures.
     * The step number is the optimiser's step count, counted over the whole run.
     *
     * <p>With {@code resume}, the model, optimiser, data loader position and generators are put back
     * as they were, and training continues with the following step: the losses are those of a run never
     * interrupted (bit for bit on the same backend and thread count). {@code config} must be the
     * checkpoint's except for the number of epochs. When {@code resume} is a checkpoint of the
     * {@code writer}'s folder, it is made the latest again ({@link CheckpointWriter#rewind}).
     *
     * @param writer where to save checkpoints, or null; the caller owns it
     * @param every  save every this many steps; 0 at the end of each epoch
     * @param resume the checkpoint to continue from, or null
     * @throws IllegalArgumentException if {@code resume} does not fit this run (other model or data)
     * @throws IllegalStateException    if the run diverges or a checkpoint cannot be written
     * @throws IOException              if {@code resume}'s files cannot be read
     */
    public static TrainResult run(Sinew sn, int threads, TrainConfig config, FashionMnist data, TrainListener listener,
            Consumer<EpochStats> onEpoch, CheckpointWriter writer, int every, Checkpoint resume) throws IOException {
        return run(sn, threads, config, data, listener, onEpoch, writer, every, resume, 0);
    }

    /**
     * As {@link #run(Sinew, int, TrainConfig, FashionMnist, TrainListener, Consumer, CheckpointWriter, int,
     * Checkpoint)}, ending each epoch's training pass after at most {@code maxSteps} steps (0: all), for
     * smoke runs; not together with checkpoints (a shortened epoch cannot be resumed exactly).
     */
    public static TrainResult run(Sinew sn, int threads, TrainConfig config, FashionMnist data, TrainListener listener,
            Consumer<EpochStats> onEpoch, CheckpointWriter writer, int every, Checkpoint resume, int maxSteps)
            throws IOException {
        if (maxSteps < 0) {
            throw new IllegalArgumentException("--max-steps must be at least 1, got " + maxSteps);
        }
        if (maxSteps > 0 && (writer != null || resume != null)) {
            throw new IllegalArgumentException("--max-steps cannot be combined with --checkpoint or --resume");
        }
        if (every < 0) {
            throw new IllegalArgumentException("--every must be at least 1, got " + every);
        }
        Generator init = new Generator(config.seed());
        List<EpochStats> epochs = new ArrayList<>();
        long labelsCrc = TrainCheckpoint.labelsCrc(data.train());
        try (Module model = Models.create(config.model(), sn, init);
                Optimizer optimizer = config.optimizer().create(model.parameters(), config.lr())) {
            DataLoader loader = DataLoader.builder(sn, data.train())
                    .batchSize(config.batch())
                    .shuffle(config.seed() ^ SHUFFLE_SALT)
                    .lastBatch(LastBatch.KEEP)
                    .build();
            TrainingState state = new TrainingState(model, optimizer, null, loader, Map.of("init", init));
            int firstEpoch = 1;
            DataLoader.EpochIterator resumed = null;
            Trainer.EpochProgress progress = Trainer.EpochProgress.START;
            double priorSeconds = 0;
            if (resume != null) {
                TrainCheckpoint saved = TrainCheckpoint.decode(resume);
                if (saved.trainSamples() != data.train().size() || saved.labelsCrc() != labelsCrc) {
                    throw new IllegalArgumentException(resume.folder() + ": the checkpoint was trained on other data ("
                            + saved.trainSamples() + " training samples, labels CRC-32C "
                            + Long.toHexString(saved.labelsCrc()) + "; this run has " + data.train().size()
                            + ", " + Long.toHexString(labelsCrc) + ")");
                }
                resume.restore(state);
                if (writer != null && writer.dir().equals(resume.folder().toAbsolutePath().normalize().getParent())) {
                    // Going on from an earlier checkpoint of the folder being saved into: it becomes the
                    // latest again and the newer ones (an abandoned continuation) go.
                    writer.rewind(resume.folder());
                }
                epochs.addAll(saved.history());
                priorSeconds = saved.seconds();
                DataLoader.Position pos = loader.position();
                if (pos.epoch() >= 1 && !saved.finished(pos.epoch())) {
                    firstEpoch = pos.epoch(); // continue inside this epoch
                    resumed = loader.currentEpoch();
                    progress = saved.progressEpoch() == pos.epoch() ? saved.progress() : Trainer.EpochProgress.START;
                } else {
                    firstEpoch = pos.epoch() + 1;
                }
            }
            Trainer trainer = new Trainer(sn, model, optimizer, maxSteps);
            String backend = sn.backend().name();
            long t0 = System.nanoTime();
            for (int e = firstEpoch; e <= config.epochs(); e++) {
                boolean continuing = e == firstEpoch && resumed != null;
                DataLoader.EpochIterator it = continuing ? resumed : loader.iterator();
                Trainer.EpochProgress start = continuing ? progress : Trainer.EpochProgress.START;
                final double before = priorSeconds;
                Trainer.StepHook hook = writer == null || every == 0 ? Trainer.StepHook.NONE
                        : (epoch, soFar, lastStep) -> {
                            if (!lastStep && optimizer.stepCount() % every == 0) {
                                save(writer, optimizer.stepCount(), state, new TrainCheckpoint(config, backend, threads,
                                        data.tag(), data.train().size(), labelsCrc, epochs, epoch, soFar,
                                        before + (System.nanoTime() - t0) / 1e9));
                            }
                        };
                Trainer.Pass pass = trainer.trainEpoch(loader, it, e, start, listener, hook);
                long te = System.nanoTime();
                Evaluation eval = trainer.evaluate(data.test(), config.evalBatch());
                double evalSeconds = (System.nanoTime() - te) / 1e9;
                EpochStats stats = new EpochStats(e, pass.meanLoss(), pass.accuracy(), eval.loss(), eval.accuracy(),
                        pass.samples(), pass.seconds(), evalSeconds);
                epochs.add(stats);
                onEpoch.accept(stats);
                if (writer != null && (every == 0 || optimizer.stepCount() % every == 0 || e == config.epochs())) {
                    Trainer.EpochProgress done = new Trainer.EpochProgress(pass.meanLoss() * pass.samples(),
                            Math.round(pass.accuracy() * pass.samples()), pass.samples(), pass.steps(), pass.seconds());
                    save(writer, optimizer.stepCount(), state, new TrainCheckpoint(config, backend, threads, data.tag(),
                            data.train().size(), labelsCrc, epochs, e, done,
                            priorSeconds + (System.nanoTime() - t0) / 1e9));
                }
            }
            double seconds = priorSeconds + (System.nanoTime() - t0) / 1e9;
            return new TrainResult(config, sn.backend().name(), threads, data.tag(), data.description(),
                    data.test().size(), epochs, seconds);
        }
    }

    /** Saves a checkpoint; a failure to write it ends the run (exit code 1), naming the folder. */
    private static void save(CheckpointWriter writer, long step, TrainingState state, TrainCheckpoint extra) {
        try {
            writer.save(step, state, Map.of(TrainCheckpoint.KEY, extra.encode()));
        } catch (IOException e) {
            throw new IllegalStateException("checkpoint: could not save step " + step + " in " + writer.dir() + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
        }
    }
}
