package dev.sinew.io;

import dev.sinew.Generator;
import dev.sinew.data.DataLoader;
import dev.sinew.nn.Module;
import dev.sinew.optim.LrScheduler;
import dev.sinew.optim.Optimizer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The live objects of a training run that a checkpoint saves and restores: the model's parameters and
 * buffers, the optimiser's state, the learning-rate schedule's epoch, the data loader's position and
 * the random generators' states. Only {@code model} is required; a null part is neither saved nor
 * restored.
 *
 * <p>Ownership: the record only refers to the objects; they stay their creator's, who must not use
 * them from another thread while a checkpoint is being written or restored. The generators map is an
 * unmodifiable copy (insertion order kept).
 *
 * @param model      the model (state-dict names as PyTorch's)
 * @param optimizer  its optimiser, or null
 * @param scheduler  the optimiser's learning-rate schedule, or null
 * @param loader     the training data loader, or null; its shuffling generator is saved with its position
 * @param generators the other random generators by name (model initialisation, dropout, ...); names are
 *                   non-empty
 */
public record TrainingState(Module model, Optimizer optimizer, LrScheduler scheduler, DataLoader loader,
        Map<String, Generator> generators) {
    public TrainingState {
        if (model == null) {
            throw new IllegalArgumentException("TrainingState: model must not be null");
        }
        if (scheduler != null && optimizer == null) {
            throw new IllegalArgumentException("TrainingState: a scheduler needs its optimizer");
        }
        generators = generators == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(generators));
        for (var e : generators.entrySet()) {
            if (e.getKey() == null || e.getKey().isEmpty() || e.getValue() == null) {
                throw new IllegalArgumentException("TrainingState: generator names must be non-empty and generators"
                        + " non-null, got " + e.getKey() + " -> " + e.getValue());
            }
        }
    }

    /** A model and optimiser only. */
    public static TrainingState of(Module model, Optimizer optimizer) {
        return new TrainingState(model, optimizer, null, null, Map.of());
    }
}
