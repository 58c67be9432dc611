package dev.sinew.bench.train;

import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.nn.Linear;
import dev.sinew.nn.Module;
import dev.sinew.nn.ReLU;
import dev.sinew.nn.Sequential;
import java.util.Locale;

/** The standard workload models, by their command-line names. Stateless. */
public final class Models {
    private Models() {
    }

    /** Command-line names of the models {@link #create} knows. */
    public static final String NAMES = "mlp, tiny-mlp";

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
            default -> throw new IllegalArgumentException("unknown model '" + name + "' (known: " + NAMES + ")");
        };
    }

    /** Whether {@link #create} knows {@code name}. */
    public static boolean isKnown(String name) {
        if (name == null) {
            return false;
        }
        String n = name.trim().toLowerCase(Locale.ROOT);
        return n.equals("mlp") || n.equals("tiny-mlp");
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
            default -> name;
        };
    }
}
