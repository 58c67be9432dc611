package dev.sinew.bench.suite;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The machine a report was measured on: CPU model (from {@code /proc/cpuinfo}), processors
 * available to the JVM, preferred float vector width, JDK, GPU (or {@code none}), the measured FMA
 * peak, and library versions (Sinew, PyTorch when the peer ran). Immutable.
 */
public record Machine(String cpuModel, int cores, int vectorBits, String jdk, String os, String gpu,
        double fmaPeakGflops, int threads, Map<String, String> versions) {

    public Machine {
        versions = Map.copyOf(new LinkedHashMap<>(versions));
    }

    /** This machine's CPU model, or {@code unknown}. */
    public static String thisCpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch", "unknown");
    }

    /** The JDK's version and vendor. */
    public static String thisJdk() {
        return Runtime.version() + " (" + System.getProperty("java.vendor", "?") + ")";
    }

    /** The OS name, version and architecture. */
    public static String thisOs() {
        return System.getProperty("os.name", "?") + " " + System.getProperty("os.version", "?") + " ("
                + System.getProperty("os.arch", "?") + ")";
    }
}
