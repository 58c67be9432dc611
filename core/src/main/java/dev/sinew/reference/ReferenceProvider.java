package dev.sinew.reference;

import dev.sinew.spi.Availability;
import dev.sinew.spi.Backend;
import dev.sinew.spi.BackendOptions;
import dev.sinew.spi.BackendProvider;

/**
 * Registers the {@link ReferenceBackend} with {@link java.util.ServiceLoader}: name
 * {@code "reference"}, priority 0 (the last resort of the automatic choice), always available.
 * Stateless; each {@link #create} makes an independent backend that the caller owns and closes.
 */
public final class ReferenceProvider implements BackendProvider {

    /** ServiceLoader needs a public no-argument constructor. */
    public ReferenceProvider() {
    }

    @Override
    public String name() {
        return ReferenceBackend.NAME;
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Availability probe() {
        return Availability.yes("plain Java, always available");
    }

    @Override
    public Backend create(BackendOptions options) {
        return new ReferenceBackend(options);
    }
}
