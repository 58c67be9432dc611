package dev.sinew.optim;

/**
 * A learning-rate schedule driving one {@link Optimizer}'s {@link Optimizer#setLr learning rate},
 * as {@code torch.optim.lr_scheduler}: call {@link #step()} once per epoch (or per iteration, for
 * warm-up), after {@code optimizer.step()}.
 *
 * <p>Sinew's schedules are closed-form (PyTorch's {@code _get_closed_form_lr}): the rate at epoch
 * {@code e} is a function of the base rate (the optimiser's rate when the schedule was made) and
 * {@code e} alone, so a schedule can be resumed at any epoch. Making a schedule sets the rate for
 * epoch 0. Schedules hold no tensors; not thread-safe.
 */
public interface LrScheduler {

    /** Advances one epoch and sets the optimiser's rate to {@code lrAt(lastEpoch())}. */
    void step();

    /** The epoch whose rate is in effect: 0 after construction, +1 per {@link #step()}. */
    long lastEpoch();

    /** The optimiser's rate when this schedule was made. */
    double baseLr();

    /** The rate this schedule gives at {@code epoch} (≥ 0). */
    double lrAt(long epoch);

    /**
     * Moves the schedule to {@code epoch} (&ge; 0) and sets the optimiser's rate to
     * {@code lrAt(epoch)}: how a resumed run puts a schedule back where its checkpoint left it
     * (PyTorch's {@code scheduler.load_state_dict}). Sinew's schedules are closed-form, so the epoch
     * is their whole state.
     *
     * @throws UnsupportedOperationException for a schedule that cannot be repositioned (the default)
     */
    default void setLastEpoch(long epoch) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot be moved to an epoch");
    }

    /** The rate in effect now, {@code lrAt(lastEpoch())}. */
    default double lr() {
        return lrAt(lastEpoch());
    }
}
