package dev.sinew.bench.train;

import dev.sinew.Tensor;
import dev.sinew.optim.Adam;
import dev.sinew.optim.AdamW;
import dev.sinew.optim.Optimizer;
import dev.sinew.optim.RMSProp;
import dev.sinew.optim.SGD;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** The optimisers {@code sinew train} offers, by their command-line names. */
public enum OptimizerKind {
    ADAM,
    SGD,
    ADAMW,
    RMSPROP;

    /** The command-line name, e.g. {@code adamw}. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a command-line name, case-insensitively; throws {@link IllegalArgumentException} naming the choices. */
    public static OptimizerKind parse(String name) {
        for (OptimizerKind k : values()) {
            if (k.cliName().equalsIgnoreCase(name.trim())) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown optimizer '" + name + "' (known: " + names() + ")");
    }

    /** {@code "adam, sgd, adamw, rmsprop"}. */
    public static String names() {
        return Arrays.stream(values()).map(OptimizerKind::cliName).collect(Collectors.joining(", "));
    }

    /**
     * Makes the optimiser over {@code params} with learning rate {@code lr} and the library's
     * defaults otherwise (PyTorch's: Adam betas 0.9/0.999, AdamW weight decay 0.01, plain SGD,
     * RMSProp alpha 0.99). The caller owns it and closes it.
     */
    public Optimizer create(List<Tensor> params, double lr) {
        return switch (this) {
            case ADAM -> new Adam(params, lr);
            case SGD -> new SGD(params, lr);
            case ADAMW -> new AdamW(params, lr);
            case RMSPROP -> new RMSProp(params, lr);
        };
    }
}
