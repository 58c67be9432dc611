/**
 * Stand-alone performance mains (warm-up, then median and p10–p90 of timed repetitions), for
 * workloads compared side by side with the peer scripts in {@code bench/peers/}.
 */
package dev.sinew.bench.perf;
