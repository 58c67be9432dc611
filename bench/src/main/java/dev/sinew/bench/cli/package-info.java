/**
 * The picocli commands of the {@code sinew} command line ({@code train} with its checkpoint and
 * resume options, {@code info}, {@code soak}, {@code inspect} for safetensors files and checkpoint
 * folders) and their terminal output (the progress bar). The training itself lives in
 * {@link dev.sinew.bench.train}.
 */
package dev.sinew.bench.cli;
