/**
 * The picocli commands of the {@code sinew} command line ({@code train}, {@code info}) and their
 * terminal output (the progress bar). The training itself lives in {@link dev.sinew.bench.train}.
 */
package dev.sinew.bench.cli;
