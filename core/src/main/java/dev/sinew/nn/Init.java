package dev.sinew.nn;

import dev.sinew.Generator;
import dev.sinew.Tensor;
import dev.sinew.spi.Distribution;
import dev.sinew.spi.View;

/**
 * Weight initialisers with {@code torch.nn.init}'s fan and gain rules, writing into an existing
 * tensor in place (no gradient is recorded; a parameter that requires grad may be initialised).
 *
 * <p>Fans, as PyTorch computes them for a tensor of shape {@code [out, in, k...]}:
 * {@code fanIn = in·Πk}, {@code fanOut = out·Πk}; tensors of rank below 2 have no fans.
 * Random values come from the given {@link Generator} through the backend's counter-based
 * sampler, so they are the same on every backend. Each method returns the tensor it filled.
 *
 * <p>Stateless; thread-safe as far as the tensors and generators passed in are not shared.
 */
public final class Init {
    private Init() {
    }

    /** Which fan {@code kaiming*} normalises by. */
    public enum FanMode {
        /** Preserves the variance of activations in the forward pass (PyTorch's default). */
        FAN_IN,
        /** Preserves the variance of gradients in the backward pass. */
        FAN_OUT
    }

    /** The non-linearities {@link #gain} knows, as in {@code torch.nn.init.calculate_gain}. */
    public enum Nonlinearity {
        LINEAR, CONV1D, CONV2D, CONV3D, SIGMOID, TANH, RELU, LEAKY_RELU, SELU
    }

    /** Fan-in and fan-out of a weight shape. */
    public record Fans(long fanIn, long fanOut) {
    }

    /** Fans of a tensor of shape {@code dims}, as {@code torch.nn.init._calculate_fan_in_and_fan_out}. */
    public static Fans fans(long... dims) {
        if (dims.length < 2) {
            throw new IllegalArgumentException("init: fan in and fan out need a tensor of rank >= 2, got shape "
                    + java.util.Arrays.toString(dims));
        }
        long receptive = 1;
        for (int i = 2; i < dims.length; i++) {
            receptive *= dims[i];
        }
        return new Fans(dims[1] * receptive, dims[0] * receptive);
    }

    /** The recommended gain for {@code nl}; {@code LEAKY_RELU} uses negative slope 0.01. */
    public static double gain(Nonlinearity nl) {
        return gain(nl, 0.01);
    }

    /** The recommended gain for {@code nl}; {@code param} is LEAKY_RELU's negative slope. */
    public static double gain(Nonlinearity nl, double param) {
        return switch (nl) {
            case LINEAR, CONV1D, CONV2D, CONV3D, SIGMOID -> 1.0;
            case TANH -> 5.0 / 3.0;
            case RELU -> Math.sqrt(2.0);
            case LEAKY_RELU -> {
                if (!Double.isFinite(param)) {
                    throw new IllegalArgumentException("init.gain: negative slope " + param + " is not finite");
                }
                yield Math.sqrt(2.0 / (1 + param * param));
            }
            case SELU -> 3.0 / 4.0;
        };
    }

    private static double fan(Tensor t, FanMode mode) {
        Fans f = fans(t.dims());
        return mode == FanMode.FAN_IN ? f.fanIn() : f.fanOut();
    }

    private static Tensor sample(String op, Tensor t, Distribution d, double a, double b, Generator g) {
        if (t.isClosed()) {
            throw new IllegalStateException("init." + op + ": tensor " + t.shape() + " was already closed");
        }
        if (!t.dtype().isFloating()) {
            throw new IllegalArgumentException("init." + op + ": needs a floating tensor, got " + t.shape() + " "
                    + t.dtype());
        }
        if (g == null) {
            throw new IllegalArgumentException("init." + op + ": generator is null");
        }
        View v = t.storageView();
        // Writes straight into the tensor's storage: no temporary, no autograd record.
        t.backend().random(v, d, a, b, g.seed(), g.reserve(t.numel()));
        return t;
    }

    private static void checkFinite(String op, String what, double v) {
        if (!Double.isFinite(v)) {
            throw new IllegalArgumentException("init." + op + ": " + what + " must be finite, got " + v);
        }
    }

    /** Fills {@code t} from U[lo, hi). */
    public static Tensor uniform(Tensor t, double lo, double hi, Generator g) {
        checkFinite("uniform", "lo", lo);
        checkFinite("uniform", "hi", hi);
        if (lo > hi) {
            throw new IllegalArgumentException("init.uniform: need lo <= hi, got [" + lo + ", " + hi + ")");
        }
        return sample("uniform", t, Distribution.UNIFORM, lo, hi, g);
    }

    /** Fills {@code t} from N(mean, std²). */
    public static Tensor normal(Tensor t, double mean, double std, Generator g) {
        checkFinite("normal", "mean", mean);
        if (!(std >= 0) || Double.isInfinite(std)) {
            throw new IllegalArgumentException("init.normal: std must be finite and >= 0, got " + std);
        }
        return sample("normal", t, Distribution.NORMAL, mean, std, g);
    }

    /** Sets every element of {@code t} to {@code v}. */
    public static Tensor constant(Tensor t, double v) {
        if (t.isClosed()) {
            throw new IllegalStateException("init.constant: tensor " + t.shape() + " was already closed");
        }
        t.backend().fill(t.storageView(), v);
        return t;
    }

    public static Tensor zeros(Tensor t) {
        return constant(t, 0);
    }

    public static Tensor ones(Tensor t) {
        return constant(t, 1);
    }

    /** Glorot/Xavier uniform: U(−a, a) with {@code a = gain·sqrt(6 / (fanIn + fanOut))}. */
    public static Tensor xavierUniform(Tensor t, double gain, Generator g) {
        checkFinite("xavierUniform", "gain", gain);
        Fans f = fans(t.dims());
        double a = gain * Math.sqrt(6.0 / (f.fanIn() + f.fanOut()));
        return sample("xavierUniform", t, Distribution.UNIFORM, -a, a, g);
    }

    /** Glorot/Xavier normal: N(0, std²) with {@code std = gain·sqrt(2 / (fanIn + fanOut))}. */
    public static Tensor xavierNormal(Tensor t, double gain, Generator g) {
        checkFinite("xavierNormal", "gain", gain);
        Fans f = fans(t.dims());
        double std = gain * Math.sqrt(2.0 / (f.fanIn() + f.fanOut()));
        return sample("xavierNormal", t, Distribution.NORMAL, 0, Math.abs(std), g);
    }

    /**
     * He/Kaiming uniform: U(−b, b) with {@code b = sqrt(3)·gain(nl, a)/sqrt(fan)}; {@code a} is the
     * negative slope used when {@code nl} is LEAKY_RELU (PyTorch's defaults: a = 0, FAN_IN, LEAKY_RELU).
     */
    public static Tensor kaimingUniform(Tensor t, double a, FanMode mode, Nonlinearity nl, Generator g) {
        double std = kaimingStd("kaimingUniform", t, a, mode, nl);
        double bound = Math.sqrt(3.0) * std;
        return sample("kaimingUniform", t, Distribution.UNIFORM, -bound, bound, g);
    }

    /** {@link #kaimingUniform} with PyTorch's defaults (a = 0, FAN_IN, LEAKY_RELU → gain sqrt(2)). */
    public static Tensor kaimingUniform(Tensor t, Generator g) {
        return kaimingUniform(t, 0, FanMode.FAN_IN, Nonlinearity.LEAKY_RELU, g);
    }

    /** He/Kaiming normal: N(0, std²) with {@code std = gain(nl, a)/sqrt(fan)}. */
    public static Tensor kaimingNormal(Tensor t, double a, FanMode mode, Nonlinearity nl, Generator g) {
        double std = kaimingStd("kaimingNormal", t, a, mode, nl);
        return sample("kaimingNormal", t, Distribution.NORMAL, 0, std, g);
    }

    /** {@link #kaimingNormal} with PyTorch's defaults. */
    public static Tensor kaimingNormal(Tensor t, Generator g) {
        return kaimingNormal(t, 0, FanMode.FAN_IN, Nonlinearity.LEAKY_RELU, g);
    }

    private static double kaimingStd(String op, Tensor t, double a, FanMode mode, Nonlinearity nl) {
        if (mode == null || nl == null) {
            throw new IllegalArgumentException("init." + op + ": mode and nonlinearity must not be null");
        }
        checkFinite(op, "a", a);
        return gain(nl, a) / Math.sqrt(fan(t, mode));
    }
}
