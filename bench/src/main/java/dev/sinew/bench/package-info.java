/**
 * The {@code sinew} command line's entry point ({@link dev.sinew.bench.Main}); the launcher
 * script {@code ./sinew} at the repository root runs it with the right JDK and JVM flags.
 */
package dev.sinew.bench;
