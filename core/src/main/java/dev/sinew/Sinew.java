package dev.sinew;

import dev.sinew.spi.Availability;
import dev.sinew.spi.Backend;
import dev.sinew.spi.BackendOptions;
import dev.sinew.spi.BackendProvider;
import dev.sinew.spi.Distribution;
import dev.sinew.spi.View;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;
import java.util.stream.Collectors;

/**
 * The entry point: one backend plus the per-thread state that goes with it (the open
 * {@link Scope}s and the grad mode), and the factory for tensors.
 *
 * <pre>{@code
 * try (Sinew sn = Sinew.open()) {                 // or Sinew.use("cpu")
 *     Tensor x = sn.randn(sn.generator(1), DType.FLOAT32, 128, 784);
 * }
 * }</pre>
 *
 * <p>Choosing a backend: {@link #use(String)} names one; {@link #open()} takes the system property
 * {@code sinew.backend}, then the environment variable {@code SINEW_BACKEND}, then the
 * highest-priority available provider found by {@link ServiceLoader}. Nothing here is global: two
 * {@code Sinew} objects are independent. Ownership: the caller owns the Sinew and closes it after
 * every tensor made through it; closing closes the backend. Thread-safe: each thread has its own
 * scope stack and grad mode.
 */
public final class Sinew implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dev.sinew");

    /** A provider as {@code sinew info} lists it. */
    public record ProviderStatus(String name, int priority, Availability availability) {
    }

    static final class Depth {
        private int value;

        void increment() {
            value++;
        }

        void decrement() {
            value--;
        }

        int get() {
            return value;
        }
    }

    private final Backend backend;
    private final ThreadLocal<ArrayList<Scope>> scopes = ThreadLocal.withInitial(ArrayList::new);
    private final ThreadLocal<Depth> noGradDepth = ThreadLocal.withInitial(Depth::new);
    private boolean closed;

    private Sinew(Backend backend) {
        this.backend = backend;
    }

    /** Wraps an existing backend; the Sinew takes ownership and closes it. */
    public static Sinew of(Backend backend) {
        return new Sinew(backend);
    }

    private static List<BackendProvider> loadProviders() {
        List<BackendProvider> list = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class).stream().forEach(p -> list.add(p.get()));
        list.sort(Comparator.comparingInt(BackendProvider::priority).reversed());
        return list;
    }

    /** Every provider on the class path, highest priority first, with its probe result. */
    public static List<ProviderStatus> providers() {
        List<ProviderStatus> out = new ArrayList<>();
        for (BackendProvider p : loadProviders()) {
            out.add(new ProviderStatus(p.name(), p.priority(), safeProbe(p)));
        }
        return out;
    }

    private static Availability safeProbe(BackendProvider p) {
        try {
            return p.probe();
        } catch (RuntimeException | LinkageError e) {
            return Availability.no(e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    /** The backend named by {@code sinew.backend} / {@code SINEW_BACKEND}, else the best available. */
    public static Sinew open() {
        return open(BackendOptions.defaults());
    }

    public static Sinew open(BackendOptions options) {
        String name = System.getProperty("sinew.backend");
        if (name == null || name.isBlank()) {
            name = System.getenv("SINEW_BACKEND");
        }
        if (name != null && !name.isBlank()) {
            return use(name, options);
        }
        List<String> skipped = new ArrayList<>();
        for (BackendProvider p : loadProviders()) {
            Availability a = safeProbe(p);
            if (a.available()) {
                if (!skipped.isEmpty()) {
                    LOG.log(System.Logger.Level.INFO, "sinew: using backend ''{0}'', skipped {1}", p.name(),
                            String.join("; ", skipped));
                }
                return new Sinew(p.create(options));
            }
            skipped.add(p.name() + " (" + a.reason() + ")");
        }
        throw new IllegalStateException("sinew: no backend is available: " + String.join("; ", skipped));
    }

    /** The named backend, or an {@link IllegalArgumentException} with its reason and the alternatives. */
    public static Sinew use(String name) {
        return use(name, BackendOptions.defaults());
    }

    public static Sinew use(String name, BackendOptions options) {
        String wanted = name.trim().toLowerCase(Locale.ROOT);
        List<BackendProvider> all = loadProviders();
        List<String> usable = new ArrayList<>();
        for (BackendProvider p : all) {
            if (safeProbe(p).available()) {
                usable.add(p.name());
            }
        }
        for (BackendProvider p : all) {
            if (p.name().equals(wanted)) {
                Availability a = safeProbe(p);
                if (!a.available()) {
                    throw new IllegalArgumentException("backend '" + wanted + "' is unavailable: " + a.reason()
                            + " (available: " + String.join(", ", usable) + ")");
                }
                return new Sinew(p.create(options));
            }
        }
        throw new IllegalArgumentException("unknown backend '" + name + "' (known: "
                + all.stream().map(BackendProvider::name).collect(Collectors.joining(", "))
                + "; available: " + String.join(", ", usable) + ")");
    }

    public Backend backend() {
        return backend;
    }

    // ---- per-thread state ----------------------------------------------------------------------

    /** Opens a scope on this thread; see {@link Scope}. */
    public Scope scope() {
        checkOpen();
        ArrayList<Scope> stack = scopes.get();
        Scope s = new Scope(this, stack.isEmpty() ? null : stack.get(stack.size() - 1));
        stack.add(s);
        return s;
    }

    /** The innermost open scope of this thread, or null. */
    public Scope currentScope() {
        ArrayList<Scope> stack = scopes.get();
        return stack.isEmpty() ? null : stack.get(stack.size() - 1);
    }

    void popScope(Scope s) {
        scopes.get().remove(s);
    }

    /** Turns gradient recording off on this thread until the result is closed. */
    public NoGrad noGrad() {
        return new NoGrad(this);
    }

    /** Whether ops on this thread record gradients now. */
    public boolean isGradEnabled() {
        return noGradDepth.get().get() == 0;
    }

    Depth gradDepth() {
        return noGradDepth.get();
    }

    public Generator generator(long seed) {
        return new Generator(seed);
    }

    // ---- factories -----------------------------------------------------------------------------

    /**
     * A contiguous tensor whose contents are unspecified (like {@code torch.empty}): for callers that
     * overwrite every element, such as loaders, so that they skip a fill pass.
     */
    public Tensor empty(DType dtype, long... shape) {
        checkOpen();
        Shape s = Shape.of(shape);
        long n = s.numel();
        return new Tensor(this, View.contiguous(backend.allocate(dtype, n), s.toArray()), s);
    }

    public Tensor zeros(long... shape) {
        return full(0, DType.FLOAT32, shape);
    }

    public Tensor zeros(DType dtype, long... shape) {
        return full(0, dtype, shape);
    }

    public Tensor ones(long... shape) {
        return full(1, DType.FLOAT32, shape);
    }

    public Tensor ones(DType dtype, long... shape) {
        return full(1, dtype, shape);
    }

    public Tensor full(double value, DType dtype, long... shape) {
        Tensor t = empty(dtype, shape);
        backend.fill(t.storageView(), value);
        return t;
    }

    /** A rank-0 tensor. */
    public Tensor scalar(double value, DType dtype) {
        return full(value, dtype);
    }

    /** {@code [0, 1, …, n−1]} as INT64, like {@code torch.arange(n)}. */
    public Tensor arange(long n) {
        return arange(0, n, 1, DType.INT64);
    }

    /** Values {@code start, start+step, …} below {@code end} (above, for a negative step). */
    public Tensor arange(double start, double end, double step, DType dtype) {
        if (step == 0 || Double.isNaN(step)) {
            throw new IllegalArgumentException("arange: step must be non-zero, got " + step);
        }
        long n = (long) Math.ceil((end - start) / step);
        if (n <= 0) {
            throw new IllegalArgumentException("arange: [" + start + ", " + end + ") with step " + step
                    + " is empty; Sinew has no empty tensors");
        }
        double[] v = new double[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = start + i * step;
        }
        return fromArray(v, n).toOwned(dtype);
    }

    private void checkLength(String op, int length, long[] shape) {
        long n = Shape.of(shape).numel();
        if (n != length) {
            throw new IllegalArgumentException(op + ": " + length + " values do not fill shape "
                    + Shape.of(shape) + " (" + n + " elements)");
        }
    }

    public Tensor fromArray(float[] data, long... shape) {
        checkLength("fromArray", data.length, shape);
        Tensor t = empty(DType.FLOAT32, shape);
        backend.copyFromHost(MemorySegment.ofArray(data), t.storageView());
        return t;
    }

    public Tensor fromArray(double[] data, long... shape) {
        checkLength("fromArray", data.length, shape);
        Tensor t = empty(DType.FLOAT64, shape);
        backend.copyFromHost(MemorySegment.ofArray(data), t.storageView());
        return t;
    }

    public Tensor fromArray(long[] data, long... shape) {
        checkLength("fromArray", data.length, shape);
        Tensor t = empty(DType.INT64, shape);
        backend.copyFromHost(MemorySegment.ofArray(data), t.storageView());
        return t;
    }

    private Tensor random(Generator g, Distribution d, double a, double b, DType dtype, long[] shape) {
        if (!dtype.isFloating() && d != Distribution.BERNOULLI) {
            throw new IllegalArgumentException("random: " + d + " needs a floating dtype, got " + dtype);
        }
        Tensor t = empty(dtype, shape);
        long n = t.numel();
        backend.random(t.storageView(), d, a, b, g.seed(), g.reserve(n));
        return t;
    }

    /** Uniform on [0, 1). */
    public Tensor rand(Generator g, DType dtype, long... shape) {
        return random(g, Distribution.UNIFORM, 0, 1, dtype, shape);
    }

    /** Standard normal. */
    public Tensor randn(Generator g, DType dtype, long... shape) {
        return random(g, Distribution.NORMAL, 0, 1, dtype, shape);
    }

    /** Uniform on [lo, hi). */
    public Tensor uniform(Generator g, double lo, double hi, DType dtype, long... shape) {
        if (!(hi >= lo)) {
            throw new IllegalArgumentException("uniform: need lo <= hi, got [" + lo + ", " + hi + ")");
        }
        return random(g, Distribution.UNIFORM, lo, hi, dtype, shape);
    }

    public Tensor normal(Generator g, double mean, double std, DType dtype, long... shape) {
        if (!(std >= 0)) {
            throw new IllegalArgumentException("normal: std must be >= 0, got " + std);
        }
        return random(g, Distribution.NORMAL, mean, std, dtype, shape);
    }

    /** 1 with probability p, else 0. */
    public Tensor bernoulli(Generator g, double p, DType dtype, long... shape) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("bernoulli: p must be in [0, 1], got " + p);
        }
        return random(g, Distribution.BERNOULLI, p, 0, dtype, shape);
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("sinew: this context (backend " + backend.name() + ") is closed");
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /** Closes the backend. Tensors made through this Sinew must be closed first. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            backend.close();
        }
    }

    @Override
    public String toString() {
        return "Sinew[" + backend.name() + "]";
    }
}
