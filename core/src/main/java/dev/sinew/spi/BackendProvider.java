package dev.sinew.spi;

/**
 * A backend implementation, found with {@link java.util.ServiceLoader}. Register the class in
 * {@code META-INF/services/dev.sinew.spi.BackendProvider}.
 *
 * <p>Providers are cheap to instantiate and must not load native code in their constructor, so
 * listing them never touches a GPU library; {@link #probe()} may. Higher {@link #priority()} wins
 * the automatic choice (reference 0, cpu 100, cuda 200).
 */
public interface BackendProvider {
    /** Short lower-case name used on the command line and in {@code sinew.backend}. */
    String name();

    int priority();

    /** Whether this backend can run here, and why not. Must not throw. */
    Availability probe();

    /** Makes a backend; the caller owns and closes it. */
    Backend create(BackendOptions options);
}
