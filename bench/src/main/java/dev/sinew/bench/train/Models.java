package dev.sinew.bench.train;

import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.models.LeNet5;
import dev.sinew.nn.Linear;
import dev.sinew.nn.Module;
import dev.sinew.nn.ReLU;
import dev.sinew.nn.Sequential;
import java.util.Locale;

/**
 * The standard workload models, by their command-line names: the Fashion-MNIST classifiers
 * {@code mlp}, {@code tiny-mlp} and {@code lenet}, made here, and the character-level language model
 * {@code charlstm}, which {@link CharLstmRun} makes (its sizes depend on the text). Stateless.
 */
public final class Models {
    private Models() {
    }

    /** Command-line names of the models {@link #create} knows. */
    public static final String NAMES = "mlp, tiny-mlp, lenet, charlstm";

    /** The character-level language model's name. */
    public static final String CHARLSTM = "charlstm";

    /**
     * Makes the model {@code name} with parameters drawn from {@code g}; the caller owns it and
     * closes it.
     *
     * @throws IllegalArgumentException for an unknown name
     */
    public static Module create(String name, Sinew sn, Generator g) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "mlp" -> mlp(sn, g);
            case "tiny-mlp" -> tinyMlp(sn, g);
            case "lenet" -> new LeNet5(sn, g);
            case CHARLSTM -> throw new IllegalArgumentException("charlstm is not a Fashion-MNIST classifier; CharLstmRun"
                    + " trains it");
            default -> throw new IllegalArgumentException("unknown model '" + name + "' (known: " + NAMES + ")");
        };
    }

    /** Whether {@link #create} knows {@code name}. */
    public static boolean isKnown(String name) {
        if (name == null) {
            return false;
        }
        String n = name.trim().toLowerCase(Locale.ROOT);
        return isClassifier(n) || n.equals(CHARLSTM);
    }

    /** Whether {@code name} is one of the Fashion-MNIST classifiers {@link #create} makes. */
    public static boolean isClassifier(String name) {
        if (name == null) {
            return false;
        }
        String n = name.trim().toLowerCase(Locale.ROOT);
        return n.equals("mlp") || n.equals("tiny-mlp") || n.equals("lenet");
    }

    /**
     * The default batch size of {@code name} when {@code --batch} is not given: 64 for LeNet-5, 32
     * sequences for the char-LSTM, 128 for the MLPs.
     */
    public static int defaultBatch(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "lenet" -> 64;
            case CHARLSTM -> 32;
            default -> 128;
        };
    }

    /**
     * The MLP 784-512-256-10 with ReLU, PyTorch's default {@code Linear} initialisation: input
     * {@code [B, 784]}, output logits {@code [B, 10]}.
     */
    public static Sequential mlp(Sinew sn, Generator g) {
        return new Sequential(
                new Linear(sn, 784, 512, g),
                new ReLU(),
                new Linear(sn, 512, 256, g),
                new ReLU(),
                new Linear(sn, 256, 10, g));
    }

    /**
     * A 784-32-10 MLP with ReLU (25 thousand parameters), PyTorch's default initialisation: for quick
     * runs and tests (checkpointing, smoke tests) where the model's quality does not matter.
     */
    public static Sequential tinyMlp(Sinew sn, Generator g) {
        return new Sequential(
                new Linear(sn, 784, 32, g),
                new ReLU(),
                new Linear(sn, 32, 10, g));
    }

    /** A one-line description for output, e.g. {@code "MLP 784-512-256-10 (ReLU)"}. */
    public static String describe(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "mlp" -> "MLP 784-512-256-10 (ReLU)";
            case "tiny-mlp" -> "MLP 784-32-10 (ReLU)";
            case "lenet" -> "LeNet-5 (conv 5x5 1-6 pad 2, max-pool 2, conv 5x5 6-16, max-pool 2, 120-84-10, ReLU)";
            case CHARLSTM -> "char-LSTM (embedding, LSTM, linear to the vocabulary)";
            default -> name;
        };
    }
}
