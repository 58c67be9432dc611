package dev.sinew.nn;

import dev.sinew.DType;
import dev.sinew.Functional;
import dev.sinew.Generator;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.spi.FusedOps.Conv2dParams;
import java.util.Arrays;

/**
 * A 2-D convolution over NCHW input, as {@code torch.nn.Conv2d} with {@code padding_mode="zeros"}:
 * input {@code [N, C_in, H, W]} (or unbatched {@code [C_in, H, W]}), output {@code [N, C_out, OH, OW]},
 * weight {@code [C_out, C_in/groups, kH, kW]}, bias {@code [C_out]}.
 *
 * <p>Padding is numbers (one for all sides, (H, W) applied to both sides as PyTorch, or
 * (top, bottom, left, right)), or {@code "valid"} (none) or {@code "same"} (output size equals input
 * size; only with stride 1; when {@code dilation·(k−1)} is odd the extra row/column goes to the
 * bottom/right, as PyTorch does).
 *
 * <p>Initialisation is PyTorch's default, drawn from the given {@link Generator} (weight first, then
 * bias): {@code kaiming_uniform_(a = sqrt(5))} for the weight, i.e. U(−b, b) with
 * {@code b = 1/sqrt(fan_in)}, {@code fan_in = C_in/groups · kH · kW}, and the same bound for the bias.
 *
 * <p>Ownership: the layer owns {@code weight} and {@code bias} (state-dict names {@code weight},
 * {@code bias}) and frees them, with their gradients, in {@link #close()}. Not thread-safe.
 */
public final class Conv2d extends Module {
    private final long inChannels;
    private final long outChannels;
    private final int[] kernel;    // (kH, kW)
    private final int[] stride;    // (sH, sW)
    private final int[] dilation;  // (dH, dW)
    private final String paddingText;
    private final Conv2dParams params;
    private final Tensor weight;   // [C_out, C_in/groups, kH, kW]
    private final Tensor bias;     // [C_out] or null

    /** A FLOAT32 layer with a square kernel, stride 1, no padding, a bias. */
    public Conv2d(Sinew sn, long inChannels, long outChannels, int kernel, Generator g) {
        this(sn, inChannels, outChannels, new int[] {kernel}, new int[] {1}, new int[] {0}, new int[] {1}, 1, true,
                DType.FLOAT32, g);
    }

    /** A FLOAT32 layer with a square kernel, stride and symmetric padding, and a bias. */
    public Conv2d(Sinew sn, long inChannels, long outChannels, int kernel, int stride, int padding, Generator g) {
        this(sn, inChannels, outChannels, new int[] {kernel}, new int[] {stride}, new int[] {padding}, new int[] {1}, 1,
                true, DType.FLOAT32, g);
    }

    /**
     * The general form with numeric padding. {@code kernel}, {@code stride} and {@code dilation} hold one
     * value or (H, W); {@code padding} one, (H, W) or (top, bottom, left, right).
     */
    public Conv2d(Sinew sn, long inChannels, long outChannels, int[] kernel, int[] stride, int[] padding,
            int[] dilation, int groups, boolean bias, DType dtype, Generator g) {
        this(sn, inChannels, outChannels, kernel, stride, padding, null, dilation, groups, bias, dtype, g);
    }

    /** The general form with {@code "same"} or {@code "valid"} padding. */
    public Conv2d(Sinew sn, long inChannels, long outChannels, int[] kernel, int[] stride, String padding,
            int[] dilation, int groups, boolean bias, DType dtype, Generator g) {
        this(sn, inChannels, outChannels, kernel, stride, null, padding, dilation, groups, bias, dtype, g);
    }

    private Conv2d(Sinew sn, long inChannels, long outChannels, int[] kernel, int[] stride, int[] padding,
            String paddingText, int[] dilation, int groups, boolean bias, DType dtype, Generator g) {
        String name = "Conv2d(" + inChannels + " -> " + outChannels + ")";
        if (sn == null || g == null) {
            throw new IllegalArgumentException(name + ": sinew and generator must not be null");
        }
        if (inChannels <= 0 || outChannels <= 0) {
            throw new IllegalArgumentException(name + ": in_channels and out_channels must be positive");
        }
        if (groups < 1) {
            throw new IllegalArgumentException(name + ": groups must be >= 1, got " + groups);
        }
        if (inChannels % groups != 0) {
            throw new IllegalArgumentException(name + ": groups " + groups + " does not divide in_channels "
                    + inChannels);
        }
        if (outChannels % groups != 0) {
            throw new IllegalArgumentException(name + ": groups " + groups + " does not divide out_channels "
                    + outChannels);
        }
        if (dtype == null || !dtype.isFloating()) {
            throw new IllegalArgumentException(name + ": parameters need a floating dtype, got " + dtype);
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernel = pair(name, "kernel_size", kernel, 1);
        this.stride = pair(name, "stride", stride, 1);
        this.dilation = pair(name, "dilation", dilation, 1);
        int[] sides;
        if (paddingText != null) {
            sides = Functional.paddingFor(name, paddingText, this.stride, new long[] {this.kernel[0], this.kernel[1]},
                    this.dilation);
            this.paddingText = paddingText;
        } else {
            sides = sides(name, padding);
            this.paddingText = sides[0] == sides[1] && sides[2] == sides[3]
                    ? "(" + sides[0] + ", " + sides[2] + ")"
                    : Arrays.toString(sides);
        }
        this.params = new Conv2dParams(this.stride[0], this.stride[1], sides[0], sides[1], sides[2], sides[3],
                this.dilation[0], this.dilation[1], groups);
        long cinG = inChannels / groups;
        long fanIn = cinG * this.kernel[0] * this.kernel[1];
        // kaiming_uniform_(a = sqrt(5)): gain = sqrt(2 / (1 + 5)), bound = sqrt(3)·gain/sqrt(fan_in) = 1/sqrt(fan_in)
        double bound = 1.0 / Math.sqrt(fanIn);
        this.weight = registerParameter("weight",
                sn.uniform(g, -bound, bound, dtype, outChannels, cinG, this.kernel[0], this.kernel[1]));
        this.bias = bias ? registerParameter("bias", sn.uniform(g, -bound, bound, dtype, outChannels)) : null;
    }

    private static int[] pair(String name, String arg, int[] v, int min) {
        if (v == null || v.length < 1 || v.length > 2) {
            throw new IllegalArgumentException(name + ": " + arg + " must hold 1 or 2 values (H, W), got "
                    + Arrays.toString(v));
        }
        int[] out = v.length == 1 ? new int[] {v[0], v[0]} : v.clone();
        if (out[0] < min || out[1] < min) {
            throw new IllegalArgumentException(name + ": " + arg + " must be >= " + min + ", got " + Arrays.toString(v));
        }
        return out;
    }

    private static int[] sides(String name, int[] v) {
        if (v == null) {
            return new int[4];
        }
        int[] out = switch (v.length) {
            case 1 -> new int[] {v[0], v[0], v[0], v[0]};
            case 2 -> new int[] {v[0], v[0], v[1], v[1]};
            case 4 -> v.clone();
            default -> throw new IllegalArgumentException(name + ": padding must hold 1, 2 (H, W) or 4 (top, bottom, "
                    + "left, right) values, got " + Arrays.toString(v));
        };
        for (int p : out) {
            if (p < 0) {
                throw new IllegalArgumentException(name + ": padding must be >= 0, got " + Arrays.toString(v));
            }
        }
        return out;
    }

    public long inChannels() {
        return inChannels;
    }

    public long outChannels() {
        return outChannels;
    }

    public int groups() {
        return params.groups();
    }

    /** The resolved geometry: stride, padding per side, dilation, groups. */
    public Conv2dParams params() {
        return params;
    }

    /** The weight {@code [C_out, C_in/groups, kH, kW]}, owned by this layer. */
    public Tensor weight() {
        return weight;
    }

    /** The bias {@code [C_out]}, owned by this layer, or null. */
    public Tensor bias() {
        return bias;
    }

    /** {@code [N, C_in, H, W] → [N, C_out, OH, OW]} (or the unbatched forms). */
    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() != 4 && x.rank() != 3) {
            throw new IllegalArgumentException("Conv2d(" + inChannels + " -> " + outChannels + "): input must be "
                    + "[N, C, H, W] or [C, H, W], got " + x.shape());
        }
        if (x.dtype() != weight.dtype()) {
            throw new IllegalArgumentException("Conv2d(" + inChannels + " -> " + outChannels + "): input "
                    + x.shape() + " is " + x.dtype() + " but the weight is " + weight.dtype()
                    + "; convert with to(DType)");
        }
        return Functional.conv2d(x, weight, bias, params);
    }

    @Override
    protected String extraRepr() {
        StringBuilder sb = new StringBuilder();
        sb.append(inChannels).append(", ").append(outChannels)
                .append(", kernel_size=(").append(kernel[0]).append(", ").append(kernel[1]).append(')')
                .append(", stride=(").append(stride[0]).append(", ").append(stride[1]).append(')');
        if (!"(0, 0)".equals(paddingText)) {
            sb.append(", padding=").append(paddingText.startsWith("(") || paddingText.startsWith("[")
                    ? paddingText : "'" + paddingText + "'");
        }
        if (dilation[0] != 1 || dilation[1] != 1) {
            sb.append(", dilation=(").append(dilation[0]).append(", ").append(dilation[1]).append(')');
        }
        if (params.groups() != 1) {
            sb.append(", groups=").append(params.groups());
        }
        if (bias == null) {
            sb.append(", bias=False");
        }
        return sb.toString();
    }
}
