package dev.sinew.cpu;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The CPU backend's worker threads and its one way of using them: {@link #run(int, Chunk)} runs
 * chunks {@code 0..n-1} of a job, the calling thread working alongside {@code threads − 1} workers
 * that claim chunks from a shared counter (so a worker that wakes late simply finds less to do).
 *
 * <p>Workers spin for {@value #SPIN_NANOS} ns after their last job before they park: training runs
 * its ops back to back, and waking a parked thread costs a system call (about 10–15 µs on a VM),
 * as much as a whole small op. A job is offered to parked workers with an unpark, to spinning ones
 * by the queue alone.
 *
 * <p>Ownership: one instance per backend, made with it and {@link #close() closed} with it; the
 * workers are daemon threads named {@code sinew-cpu-N}. Thread safety: {@code run} may be called
 * from several threads at once (each call has its own job state; workers serve jobs in order). A
 * call after {@code close} runs every chunk on the caller. Chunks must touch disjoint output memory;
 * callers split on row or 64-element boundaries so that no two threads write one cache line
 * (see {@link #align}).
 */
final class Parallel implements AutoCloseable {
    /** How long an idle worker polls for the next job before parking. */
    static final long SPIN_NANOS = 50_000;

    /** One unit of a job. */
    @FunctionalInterface
    interface Chunk {
        void run(int index);
    }

    private final int threads;
    private final Worker[] workers;                 // threads − 1 of them
    private final ConcurrentLinkedQueue<Job> queue = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;

    Parallel(int threads) {
        this.threads = Math.max(1, threads);
        this.workers = new Worker[this.threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker("sinew-cpu-" + (i + 1));
            workers[i].start();
        }
    }

    /** How many threads work on one job (the caller included). */
    int threads() {
        return threads;
    }

    /**
     * How many chunks to cut {@code work} items into, when one chunk should hold at least
     * {@code grain} items: 1 below {@code 2·grain}, at most {@code 4·threads} (dynamic claiming
     * evens out the load, more chunks only add overhead).
     */
    int chunks(long work, long grain) {
        if (threads == 1 || work < 2 * grain) {
            return 1;
        }
        return (int) Math.min(4L * threads, work / grain);
    }

    /** Runs {@code body(0..n-1)}, in parallel when {@code n > 1}; rethrows the first failure. */
    void run(int n, Chunk body) {
        if (n <= 0) {
            return;
        }
        if (n == 1 || workers.length == 0 || closed) {
            for (int i = 0; i < n; i++) {
                body.run(i);
            }
            return;
        }
        Job job = new Job(n, body, Thread.currentThread());
        int helpers = Math.min(workers.length, n - 1);
        for (int h = 0; h < helpers; h++) {
            queue.offer(job);
        }
        wake(helpers);
        job.work();
        job.await();
        Throwable t = job.failure.get();
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t != null) {
            throw new IllegalStateException(t);
        }
    }

    /** Unparks up to {@code k} parked workers (spinning ones see the queue themselves). */
    private void wake(int k) {
        for (Worker w : workers) {
            if (k == 0) {
                return;
            }
            if (w.parked) {
                LockSupport.unpark(w);
                k--;
            }
        }
    }

    /** Chunk boundary {@code i} of {@code parts} over {@code [0, total)}, rounded down to a multiple of {@code unit}. */
    static long align(long total, int parts, int i, long unit) {
        if (i >= parts) {
            return total;
        }
        long b = total * i / parts;
        return Math.min(total, b / unit * unit);
    }

    /** Stops the workers (they finish the chunk in hand) and waits briefly for them. */
    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) {
            LockSupport.unpark(w);
        }
        for (Worker w : workers) {
            try {
                w.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** A worker: serves queued jobs, spins a while when there are none, then parks. */
    private final class Worker extends Thread {
        volatile boolean parked;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        @Override
        public void run() {
            while (!closed) {
                Job j = queue.poll();
                if (j != null) {
                    j.work();
                    continue;
                }
                long deadline = System.nanoTime() + SPIN_NANOS;
                while (queue.isEmpty() && !closed && System.nanoTime() - deadline < 0) {
                    Thread.onSpinWait();
                }
                if (!queue.isEmpty() || closed) {
                    continue;
                }
                // announce, then look once more: a submitter either sees parked (and unparks) or its
                // job is already visible here (both sides are volatile accesses)
                parked = true;
                if (queue.isEmpty() && !closed) {
                    LockSupport.park(this);
                }
                parked = false;
            }
        }
    }

    /** The shared state of one {@link #run} call. */
    private static final class Job {
        private final int n;
        private final Chunk body;
        private final Thread waiter;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger done = new AtomicInteger();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(int n, Chunk body, Thread waiter) {
            this.n = n;
            this.body = body;
            this.waiter = waiter;
        }

        void work() {
            int c;
            while ((c = next.getAndIncrement()) < n) {
                try {
                    if (failure.get() == null) {
                        body.run(c);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    if (done.incrementAndGet() == n && Thread.currentThread() != waiter) {
                        LockSupport.unpark(waiter);
                    }
                }
            }
        }

        /** Waits until every chunk has finished: spins up to {@link #SPIN_NANOS} (chunks are short), then parks. */
        void await() {
            long deadline = System.nanoTime() + SPIN_NANOS;
            while (done.get() < n && System.nanoTime() - deadline < 0) {
                Thread.onSpinWait();
            }
            while (done.get() < n) {
                LockSupport.park(this);
            }
        }
    }
}
