package dev.sinew.optim;

/**
 * Cosine annealing from the base rate to {@code etaMin} over {@code tMax} epochs, as
 * {@code torch.optim.lr_scheduler.CosineAnnealingLR} (without restarts):
 * {@code lr(e) = etaMin + (base − etaMin)·(1 + cos(π·e / tMax)) / 2}. Past {@code tMax} the cosine
 * continues (the rate climbs back), as PyTorch's does.
 *
 * <p>Holds no tensors; not thread-safe.
 */
public final class CosineAnnealingLR implements LrScheduler {
    private final ScheduleDriver driver;

    /** Anneals to 0. */
    public CosineAnnealingLR(Optimizer optimizer, long tMax) {
        this(optimizer, tMax, 0.0);
    }

    public CosineAnnealingLR(Optimizer optimizer, long tMax, double etaMin) {
        if (tMax < 1) {
            throw new IllegalArgumentException("CosineAnnealingLR: tMax must be >= 1, got " + tMax);
        }
        if (!(etaMin >= 0) || Double.isInfinite(etaMin)) {
            throw new IllegalArgumentException("CosineAnnealingLR: etaMin must be finite and >= 0, got " + etaMin);
        }
        this.driver = new ScheduleDriver("CosineAnnealingLR", optimizer,
                (base, e) -> etaMin + (base - etaMin) * (1 + Math.cos(Math.PI * e / tMax)) / 2);
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
