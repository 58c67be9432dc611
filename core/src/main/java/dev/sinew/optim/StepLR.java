package dev.sinew.optim;

/**
 * Decays the rate by {@code gamma} every {@code stepSize} epochs, as {@code torch.optim.lr_scheduler.StepLR}:
 * {@code lr(e) = base · gamma^floor(e / stepSize)}.
 *
 * <p>Holds no tensors; not thread-safe.
 */
public final class StepLR implements LrScheduler {
    private final ScheduleDriver driver;

    public StepLR(Optimizer optimizer, long stepSize, double gamma) {
        if (stepSize < 1) {
            throw new IllegalArgumentException("StepLR: stepSize must be >= 1, got " + stepSize);
        }
        if (!(gamma >= 0) || Double.isInfinite(gamma)) {
            throw new IllegalArgumentException("StepLR: gamma must be finite and >= 0, got " + gamma);
        }
        this.driver = new ScheduleDriver("StepLR", optimizer,
                (base, e) -> base * Math.pow(gamma, Math.floorDiv(e, stepSize)));
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
