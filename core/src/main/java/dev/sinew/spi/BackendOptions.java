package dev.sinew.spi;

/**
 * How to make a backend. {@code threads} 0 means one per available processor.
 * {@code recordLeakSites} records an allocation stack per buffer for leak reports (tests use it).
 */
public record BackendOptions(int threads, boolean recordLeakSites) {
    public BackendOptions {
        if (threads < 0) {
            throw new IllegalArgumentException("backend options: threads must be >= 0, got " + threads);
        }
    }

    /** Machine-sized, with leak sites as {@code -Dsinew.leakDetection=paranoid} says. */
    public static BackendOptions defaults() {
        return new BackendOptions(0, LeakDetector.sitesFromSystemProperty());
    }

    public BackendOptions withThreads(int n) {
        return new BackendOptions(n, recordLeakSites);
    }

    /** The thread count to use: {@code threads}, or the number of available processors. */
    public int resolvedThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }
}
