package dev.sinew;

/**
 * Disables gradient recording on the current thread until closed:
 * {@code try (var ng = sn.noGrad()) { … }}. Nests; confined to the opening thread.
 */
public final class NoGrad implements AutoCloseable {
    private final Sinew sinew;
    private boolean closed;

    NoGrad(Sinew sinew) {
        this.sinew = sinew;
        sinew.gradDepth().increment();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            sinew.gradDepth().decrement();
        }
    }
}
