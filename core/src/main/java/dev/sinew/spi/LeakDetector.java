package dev.sinew.spi;

import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Counts live buffers of one backend and reports those that are garbage-collected without being
 * closed, modelled on Netty's {@code ResourceLeakDetector}.
 *
 * <p>Each allocation gets a {@link Tracker}; the tracker is registered with a {@link Cleaner}
 * against the {@link Storage} object, and holds only what is needed to reclaim the memory (never
 * the storage itself). If the storage is collected while open, the cleaner reclaims the memory and
 * records a leak report naming the allocation site (recorded when {@code recordSites} is on, which
 * tests turn on with {@code -Dsinew.leakDetection=paranoid}). Owned by one backend, lives as long
 * as it; thread-safe.
 */
public final class LeakDetector {
    private final Cleaner cleaner;
    private final boolean recordSites;
    private final String backendName;
    private final AtomicLong live = new AtomicLong();
    private final AtomicLong leaked = new AtomicLong();
    private final List<String> reports = new ArrayList<>();
    private final Consumer<String> sink;

    public LeakDetector(String backendName, boolean recordSites, Consumer<String> sink) {
        this.cleaner = Cleaner.create();
        this.backendName = backendName;
        this.recordSites = recordSites;
        this.sink = sink;
    }

    /** Reads {@code sinew.leakDetection} ({@code off|simple|paranoid}); paranoid records sites. */
    public static boolean sitesFromSystemProperty() {
        return "paranoid".equalsIgnoreCase(System.getProperty("sinew.leakDetection", "simple"));
    }

    /**
     * Starts tracking {@code storage}. {@code reclaim} must not reference the storage; it runs once,
     * either never (closed normally; the storage's own free() reclaims) or when a leak is found.
     */
    public Tracker track(Object storage, String description, Runnable reclaim) {
        Throwable site = recordSites ? new Throwable("allocation site of " + description) : null;
        Tracker t = new Tracker(this, description, site, reclaim);
        t.cleanable = cleaner.register(storage, t::collected);
        live.incrementAndGet();
        return t;
    }

    /** Buffers allocated and not yet closed (collected leaks do not count). */
    public long liveBuffers() {
        return live.get();
    }

    /** Buffers found collected without being closed, since this detector was made. */
    public long leakedBuffers() {
        return leaked.get();
    }

    /** Copies of the leak reports so far. */
    public synchronized List<String> reports() {
        return List.copyOf(reports);
    }

    private void report(Tracker t) {
        leaked.incrementAndGet();
        live.decrementAndGet();
        StringBuilder sb = new StringBuilder("LEAK: ").append(backendName).append(" buffer ")
                .append(t.description).append(" was garbage-collected without being closed");
        if (t.site != null) {
            for (StackTraceElement e : t.site.getStackTrace()) {
                sb.append("\n\tat ").append(e);
            }
        } else {
            sb.append(" (run with -Dsinew.leakDetection=paranoid to record where it was allocated)");
        }
        String msg = sb.toString();
        synchronized (this) {
            reports.add(msg);
        }
        sink.accept(msg);
    }

    /** The per-buffer record; {@link #closed()} is called by the storage's last release. */
    public static final class Tracker {
        private final LeakDetector owner;
        private final String description;
        private final Throwable site;
        private final Runnable reclaim;
        private volatile boolean closed;
        private Cleaner.Cleanable cleanable;

        private Tracker(LeakDetector owner, String description, Throwable site, Runnable reclaim) {
            this.owner = owner;
            this.description = description;
            this.site = site;
            this.reclaim = reclaim;
        }

        /** Marks the buffer closed normally. */
        public void closed() {
            closed = true;
            owner.live.decrementAndGet();
            cleanable.clean(); // runs collected(), which sees closed == true and does nothing
        }

        private void collected() {
            if (!closed) {
                reclaim.run();
                owner.report(this);
            }
        }
    }
}
