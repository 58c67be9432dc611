package dev.sinew.optim;

/**
 * Linear warm-up from {@code startFactor · base} to {@code base} over {@code warmupSteps} steps, then
 * constant: {@code torch.optim.lr_scheduler.LinearLR(start_factor, end_factor=1, total_iters=warmupSteps)},
 * {@code lr(e) = base · (startFactor + (1 − startFactor) · min(e, warmupSteps) / warmupSteps)}.
 *
 * <p>Holds no tensors; not thread-safe.
 */
public final class LinearWarmup implements LrScheduler {
    private final ScheduleDriver driver;

    public LinearWarmup(Optimizer optimizer, long warmupSteps, double startFactor) {
        if (warmupSteps < 1) {
            throw new IllegalArgumentException("LinearWarmup: warmupSteps must be >= 1, got " + warmupSteps);
        }
        if (!(startFactor > 0 && startFactor <= 1)) {
            throw new IllegalArgumentException("LinearWarmup: startFactor must be in (0, 1], got " + startFactor);
        }
        this.driver = new ScheduleDriver("LinearWarmup", optimizer,
                (base, e) -> base * (startFactor + (1 - startFactor) * Math.min(e, warmupSteps) / warmupSteps));
    }

    @Override
    public void step() {
        driver.step();
    }

    @Override
    public void setLastEpoch(long epoch) {
        driver.setEpoch(epoch);
    }

    @Override
    public long lastEpoch() {
        return driver.epoch();
    }

    @Override
    public double baseLr() {
        return driver.base();
    }

    @Override
    public double lrAt(long epoch) {
        return driver.lrAt(epoch);
    }
}
