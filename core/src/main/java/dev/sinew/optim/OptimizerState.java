package dev.sinew.optim;

import dev.sinew.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A snapshot of an {@link Optimizer}'s state, as {@code torch.optim.Optimizer.state_dict()} holds it
 * for one parameter group: what {@link Optimizer#loadStateDict} needs to continue exactly where
 * {@link Optimizer#stateDict()} was taken.
 *
 * <p>Ownership: the record does not own its tensors. From {@link Optimizer#stateDict()} they are the
 * optimiser's live state (valid until its next step or close); made by a caller (e.g. loaded from a
 * file) they stay the caller's to close. The maps are unmodifiable copies in insertion order.
 *
 * @param optimizer the optimiser's name, e.g. {@code "Adam"}; loading into another kind is refused
 * @param lr        the learning rate in effect
 * @param stepCount how many times {@link Optimizer#step()} had run
 * @param tensors   per-parameter state under {@code "<parameter index>.<slot>"}, e.g. {@code "0.exp_avg"}
 * @param counters  per-parameter counts under the same kind of key, e.g. {@code "0.step"} (zeros left out)
 */
public record OptimizerState(String optimizer, double lr, long stepCount, Map<String, Tensor> tensors,
        Map<String, Long> counters) {
    public OptimizerState {
        if (optimizer == null || tensors == null || counters == null) {
            throw new IllegalArgumentException("OptimizerState: optimizer, tensors and counters must not be null");
        }
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        counters = Collections.unmodifiableMap(new LinkedHashMap<>(counters));
    }
}
