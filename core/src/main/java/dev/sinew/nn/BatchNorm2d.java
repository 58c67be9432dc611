package dev.sinew.nn;

import dev.sinew.DType;
import dev.sinew.Functional;
import dev.sinew.NoGrad;
import dev.sinew.Sinew;
import dev.sinew.Tensor;

/**
 * Batch normalisation over the channels of NCHW input, as {@code torch.nn.BatchNorm2d(num_features,
 * eps, momentum, affine, track_running_stats)}.
 *
 * <p>Training mode normalises each channel with the batch mean and <em>biased</em> variance over
 * (N, H, W), then, when tracking running statistics, updates them with the <em>unbiased</em>
 * variance: {@code running = (1 − f)·running + f·batch}, where {@code f = momentum}, or
 * {@code 1/num_batches_tracked} (a cumulative average) when momentum is null; {@code num_batches_tracked}
 * counts training batches. Evaluation mode normalises with the running statistics, or with batch
 * statistics when they are not tracked. With {@code affine}, a weight (init 1) and bias (init 0) of
 * shape {@code [C]} scale and shift the result.
 *
 * <p>State-dict names as PyTorch: parameters {@code weight}, {@code bias}; buffers
 * {@code running_mean} (init 0), {@code running_var} (init 1) and {@code num_batches_tracked} (INT64,
 * rank 0) when tracking. Ownership: the layer owns them all and frees them in {@link #close()}.
 * Not thread-safe (a forward pass in training mode writes the buffers).
 */
public final class BatchNorm2d extends Module {
    private final long features;
    private final double eps;
    private final Double momentum;
    private final Tensor weight;            // [C] or null
    private final Tensor bias;              // [C] or null
    private final Tensor runningMean;       // [C] or null
    private final Tensor runningVar;        // [C] or null
    private final Tensor numBatchesTracked; // [] INT64 or null

    /** FLOAT32, eps 1e-5, momentum 0.1, affine, tracking running statistics: PyTorch's defaults. */
    public BatchNorm2d(Sinew sn, long features) {
        this(sn, features, 1e-5, 0.1, true, true, DType.FLOAT32);
    }

    /**
     * @param momentum the running-average factor, or null for a cumulative average
     */
    public BatchNorm2d(Sinew sn, long features, double eps, Double momentum, boolean affine,
            boolean trackRunningStats, DType dtype) {
        String name = "BatchNorm2d(" + features + ")";
        if (sn == null) {
            throw new IllegalArgumentException(name + ": sinew must not be null");
        }
        if (features <= 0) {
            throw new IllegalArgumentException(name + ": num_features must be positive");
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException(name + ": eps must be > 0, got " + eps);
        }
        if (momentum != null && !(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException(name + ": momentum must be in [0, 1] or null, got " + momentum);
        }
        if (dtype == null || !dtype.isFloating()) {
            throw new IllegalArgumentException(name + ": parameters need a floating dtype, got " + dtype);
        }
        this.features = features;
        this.eps = eps;
        this.momentum = momentum;
        if (affine) {
            this.weight = registerParameter("weight", sn.ones(dtype, features));
            this.bias = registerParameter("bias", sn.zeros(dtype, features));
        } else {
            this.weight = null;
            this.bias = null;
        }
        if (trackRunningStats) {
            this.runningMean = registerBuffer("running_mean", sn.zeros(dtype, features));
            this.runningVar = registerBuffer("running_var", sn.ones(dtype, features));
            this.numBatchesTracked = registerBuffer("num_batches_tracked", sn.zeros(DType.INT64));
        } else {
            this.runningMean = null;
            this.runningVar = null;
            this.numBatchesTracked = null;
        }
    }

    public long features() {
        return features;
    }

    public double eps() {
        return eps;
    }

    /** The running-average factor, or null for a cumulative average. */
    public Double momentum() {
        return momentum;
    }

    /** {@code [C]}, owned by this layer, or null without affine. */
    public Tensor weight() {
        return weight;
    }

    public Tensor bias() {
        return bias;
    }

    /** {@code [C]}, owned by this layer, or null when running statistics are not tracked. */
    public Tensor runningMean() {
        return runningMean;
    }

    public Tensor runningVar() {
        return runningVar;
    }

    /** Training batches seen, or -1 when running statistics are not tracked. */
    public long numBatchesTracked() {
        return numBatchesTracked == null ? -1 : (long) numBatchesTracked.item();
    }

    /** {@code [N, C, H, W] → [N, C, H, W]}. */
    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() != 4) {
            throw new IllegalArgumentException("BatchNorm2d(" + features + "): input must be [N, C, H, W], got "
                    + x.shape());
        }
        if (x.size(1) != features) {
            throw new IllegalArgumentException("BatchNorm2d(" + features + "): input " + x.shape() + " has "
                    + x.size(1) + " channels, expected " + features);
        }
        if (weight != null && x.dtype() != weight.dtype()) {
            throw new IllegalArgumentException("BatchNorm2d(" + features + "): input " + x.shape() + " is "
                    + x.dtype() + " but the parameters are " + weight.dtype() + "; convert with to(DType)");
        }
        boolean training = isTraining();
        double factor = 0;
        if (training && numBatchesTracked != null) {
            try (NoGrad ng = x.sinew().noGrad(); Tensor next = numBatchesTracked.add(1.0).detachFromScope()) {
                numBatchesTracked.copy_(next);
            }
            factor = momentum != null ? momentum : 1.0 / numBatchesTracked();
        }
        return Functional.batchNorm2d(x, runningMean, runningVar, weight, bias, training, factor, eps);
    }

    @Override
    protected String extraRepr() {
        return features + ", eps=" + eps + ", momentum=" + (momentum == null ? "None" : momentum) + ", affine="
                + (weight != null ? "True" : "False") + ", track_running_stats="
                + (runningMean != null ? "True" : "False");
    }
}
