package dev.sinew.bench.train;

/**
 * What to train and how. Checked on construction; an {@link IllegalArgumentException} names the
 * bad setting.
 *
 * @param model a classifier's name, see {@link Models#isClassifier}
 * @param epochs passes over the training set, at least 1
 * @param batch samples per training step, at least 1
 * @param lr learning rate, positive and finite
 * @param optimizer which optimiser
 * @param seed seeds parameter initialisation and the shuffling order
 * @param evalBatch samples per evaluation batch, at least 1
 */
public record TrainConfig(String model, int epochs, int batch, double lr, OptimizerKind optimizer, long seed,
        int evalBatch) {
    public TrainConfig {
        if (model == null || !Models.isClassifier(model)) {
            throw new IllegalArgumentException(model != null && Models.isKnown(model)
                    ? "model '" + model + "' is not a Fashion-MNIST classifier (see CharLstmConfig)"
                    : "unknown model '" + model + "' (known: " + Models.NAMES + ")");
        }
        if (epochs < 1) {
            throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        }
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("--lr must be a positive finite number, got " + lr);
        }
        if (optimizer == null) {
            throw new IllegalArgumentException("--optimizer must be given");
        }
        if (evalBatch < 1) {
            throw new IllegalArgumentException("evaluation batch must be at least 1, got " + evalBatch);
        }
    }

    /** The defaults of {@code sinew train}: 2 epochs, batch 128, Adam 1e-3, seed 1. */
    public static TrainConfig defaults(String model) {
        return new TrainConfig(model, 2, 128, 1e-3, OptimizerKind.ADAM, 1, 1000);
    }
}
