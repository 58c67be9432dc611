/**
 * The standard training workloads shared by {@code sinew train} and the benchmarks: models by name
 * ({@link dev.sinew.bench.train.Models}), optimisers by name, the per-step training loop and
 * evaluation ({@link dev.sinew.bench.train.Trainer}) and whole runs ({@link dev.sinew.bench.train.TrainRun}),
 * which save checkpoints and resume from them exactly ({@link dev.sinew.bench.train.TrainCheckpoint} is
 * what a run adds to a checkpoint: its settings and progress), and the character-level language
 * model's run ({@link dev.sinew.bench.train.CharLstmRun}) on a text ({@link dev.sinew.bench.train.CharCorpus}).
 */
package dev.sinew.bench.train;
