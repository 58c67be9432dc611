package dev.sinew.nn;

import dev.sinew.DType;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;

/**
 * A fully connected layer, {@code y = x·Wᵀ + b}, as {@code torch.nn.Linear}: input {@code [*, in]},
 * output {@code [*, out]}, weight {@code [out, in]}, bias {@code [out]}.
 *
 * <p>Initialisation is PyTorch's default: {@code kaiming_uniform_(a = sqrt(5))} for the weight,
 * which is U(−1/sqrt(in), 1/sqrt(in)), and the same bound for the bias, drawn from the given
 * {@link Generator} (weight first, then bias).
 *
 * <p>Ownership: the layer owns {@code weight} and {@code bias} (state-dict names {@code weight},
 * {@code bias}) and frees them, with their gradients, in {@link #close()}. Not thread-safe.
 */
public final class Linear extends Module {
    private final long inFeatures;
    private final long outFeatures;
    private final Tensor weight; // [out, in]
    private final Tensor bias;   // [out] or null

    /** A FLOAT32 layer with a bias. */
    public Linear(Sinew sn, long inFeatures, long outFeatures, Generator g) {
        this(sn, inFeatures, outFeatures, true, DType.FLOAT32, g);
    }

    /** A FLOAT32 layer, with or without a bias. */
    public Linear(Sinew sn, long inFeatures, long outFeatures, boolean bias, Generator g) {
        this(sn, inFeatures, outFeatures, bias, DType.FLOAT32, g);
    }

    /** A layer whose parameters have dtype {@code dtype} (FLOAT32 or FLOAT64). */
    public Linear(Sinew sn, long inFeatures, long outFeatures, boolean bias, DType dtype, Generator g) {
        if (inFeatures <= 0 || outFeatures <= 0) {
            throw new IllegalArgumentException("Linear: in_features and out_features must be positive, got "
                    + inFeatures + " and " + outFeatures);
        }
        if (dtype == null || !dtype.isFloating()) {
            throw new IllegalArgumentException("Linear: parameters need a floating dtype, got " + dtype);
        }
        if (sn == null || g == null) {
            throw new IllegalArgumentException("Linear: sinew and generator must not be null");
        }
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        // kaiming_uniform_(a = sqrt(5)): gain = sqrt(2 / (1 + 5)), bound = sqrt(3)·gain/sqrt(in) = 1/sqrt(in).
        double bound = 1.0 / Math.sqrt(inFeatures);
        Tensor w = sn.uniform(g, -bound, bound, dtype, outFeatures, inFeatures);
        this.weight = registerParameter("weight", w);
        if (bias) {
            Tensor b = sn.uniform(g, -bound, bound, dtype, outFeatures);
            this.bias = registerParameter("bias", b);
        } else {
            this.bias = null;
        }
    }

    public long inFeatures() {
        return inFeatures;
    }

    public long outFeatures() {
        return outFeatures;
    }

    /** The weight {@code [out, in]}, owned by this layer. */
    public Tensor weight() {
        return weight;
    }

    /** The bias {@code [out]}, owned by this layer, or null. */
    public Tensor bias() {
        return bias;
    }

    /** {@code [*, in] → [*, out]}. */
    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() == 0 || x.size(-1) != inFeatures) {
            throw new IllegalArgumentException("Linear(" + inFeatures + " -> " + outFeatures + "): input "
                    + x.shape() + " must have " + inFeatures + " features in its last dimension");
        }
        if (x.dtype() != weight.dtype()) {
            throw new IllegalArgumentException("Linear(" + inFeatures + " -> " + outFeatures + "): input "
                    + x.shape() + " is " + x.dtype() + " but the weight is " + weight.dtype()
                    + "; convert with to(DType)");
        }
        Tensor y = x.matmul(weight.t()); // [*, out]
        return bias == null ? y : y.add(bias);
    }

    @Override
    protected String extraRepr() {
        return "in_features=" + inFeatures + ", out_features=" + outFeatures + ", bias=" + (bias != null);
    }
}
