package dev.sinew.optim;

/**
 * The bookkeeping every closed-form {@link LrScheduler} shares: the optimiser, its base rate, the
 * epoch counter, and the formula {@code (base, epoch) → lr}. Not thread-safe.
 */
final class ScheduleDriver {
    /** A closed-form schedule. */
    @FunctionalInterface
    interface Formula {
        double lr(double base, long epoch);
    }

    private final Optimizer optimizer;
    private final double base;
    private final Formula formula;
    private long epoch;

    ScheduleDriver(String name, Optimizer optimizer, Formula formula) {
        if (optimizer == null) {
            throw new IllegalArgumentException(name + ": optimizer must not be null");
        }
        this.optimizer = optimizer;
        this.base = optimizer.lr();
        this.formula = formula;
        optimizer.setLr(lrAt(0));
    }

    void step() {
        epoch++;
        optimizer.setLr(lrAt(epoch));
    }

    void setEpoch(long e) {
        if (e < 0) {
            throw new IllegalArgumentException("setLastEpoch: epoch must be >= 0, got " + e);
        }
        epoch = e;
        optimizer.setLr(lrAt(e));
    }

    long epoch() {
        return epoch;
    }

    double base() {
        return base;
    }

    double lrAt(long e) {
        if (e < 0) {
            throw new IllegalArgumentException("lrAt: epoch must be >= 0, got " + e);
        }
        return formula.lr(base, e);
    }
}
