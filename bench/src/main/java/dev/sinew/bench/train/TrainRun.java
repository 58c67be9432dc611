package dev.sinew.bench.train;

import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.data.DataLoader;
import dev.sinew.data.FashionMnist;
import dev.sinew.data.LastBatch;
import dev.sinew.nn.Module;
import dev.sinew.optim.Optimizer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A whole classification run: build the model and optimiser, then for each epoch train on
 * {@code data.train()} (shuffled, seeded) and evaluate on {@code data.test()}.
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
        Generator init = new Generator(config.seed());
        List<EpochStats> epochs = new ArrayList<>();
        try (Module model = Models.create(config.model(), sn, init);
                Optimizer optimizer = config.optimizer().create(model.parameters(), config.lr())) {
            DataLoader loader = DataLoader.builder(sn, data.train())
                    .batchSize(config.batch())
                    .shuffle(config.seed() ^ SHUFFLE_SALT)
                    .lastBatch(LastBatch.KEEP)
                    .build();
            Trainer trainer = new Trainer(sn, model, optimizer);
            long t0 = System.nanoTime();
            for (int e = 1; e <= config.epochs(); e++) {
                Trainer.Pass pass = trainer.trainEpoch(loader, e, listener);
                long te = System.nanoTime();
                Evaluation eval = trainer.evaluate(data.test(), config.evalBatch());
                double evalSeconds = (System.nanoTime() - te) / 1e9;
                EpochStats stats = new EpochStats(e, pass.meanLoss(), pass.accuracy(), eval.loss(), eval.accuracy(),
                        pass.samples(), pass.seconds(), evalSeconds);
                epochs.add(stats);
                onEpoch.accept(stats);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            return new TrainResult(config, sn.backend().name(), threads, data.tag(), data.description(),
                    data.test().size(), epochs,
                    seconds);
        }
    }
}
