package dev.sinew.cpu;

import dev.sinew.spi.Availability;
import dev.sinew.spi.Backend;
import dev.sinew.spi.BackendOptions;
import dev.sinew.spi.BackendProvider;

/**
 * Registers the {@link CpuBackend} with {@link java.util.ServiceLoader}: name {@code "cpu"}, priority
 * 100 (above the reference backend, below CUDA). It is available when the JVM was started with
 * {@code --add-modules jdk.incubator.vector}; this class refers to no Vector API type itself, so
 * listing and probing providers never fails on a JVM without that module.
 *
 * <p>Stateless; each {@link #create} makes an independent backend that the caller owns and closes.
 */
public final class CpuProvider implements BackendProvider {
    private static final String VECTOR_MODULE = "jdk.incubator.vector";

    /** ServiceLoader needs a public no-argument constructor. */
    public CpuProvider() {
    }

    @Override
    public String name() {
        return CpuBackend.NAME;
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public Availability probe() {
        try {
            if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty()) {
                return Availability.no("the JVM was started without --add-modules " + VECTOR_MODULE);
            }
            return Availability.yes(VECTOR_MODULE + ", " + Runtime.getRuntime().availableProcessors() + " processors");
        } catch (RuntimeException | LinkageError e) {
            return Availability.no("cannot check for " + VECTOR_MODULE + ": " + e);
        }
    }

    @Override
    public Backend create(BackendOptions options) {
        Availability a = probe();
        if (!a.available()) {
            throw new IllegalStateException("cpu backend: " + a.reason());
        }
        return new CpuBackend(options);
    }
}
