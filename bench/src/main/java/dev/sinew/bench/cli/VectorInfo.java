package dev.sinew.bench.cli;

import java.util.Optional;

/**
 * The Vector API's preferred float width on this CPU, when the {@code jdk.incubator.vector}
 * module is in the boot layer. The nested holder is loaded only after that check, so a JVM started
 * without {@code --add-modules jdk.incubator.vector} gets an empty answer, not an error. Stateless.
 */
final class VectorInfo {
    private VectorInfo() {
    }

    /** Whether {@code jdk.incubator.vector} was added to this JVM. */
    static boolean present() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** Bits of {@code FloatVector.SPECIES_PREFERRED}, if the module is present. */
    static Optional<Integer> preferredFloatBits() {
        if (!present()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Holder.bits());
        } catch (LinkageError e) {
            return Optional.empty();
        }
    }

    private static final class Holder {
        static int bits() {
            return jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize();
        }
    }
}
