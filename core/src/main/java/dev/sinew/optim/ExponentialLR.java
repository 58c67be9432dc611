package dev.sinew.optim;

/**
 * Decays the rate by {@code gamma} every epoch, as {@code torch.optim.lr_scheduler.ExponentialLR}:
 * {@code lr(e) = base · gamma^e}.
 *
 * <p>Holds no tensors; not thread-safe.
 */
public final class ExponentialLR implements LrScheduler {
    private final ScheduleDriver driver;

    public ExponentialLR(Optimizer optimizer, double gamma) {
        if (!(gamma >= 0) || Double.isInfinite(gamma)) {
            throw new IllegalArgumentException("ExponentialLR: gamma must be finite and >= 0, got " + gamma);
        }
        this.driver = new ScheduleDriver("ExponentialLR", optimizer,
                (base, e) -> base * Math.pow(gamma, e));
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
