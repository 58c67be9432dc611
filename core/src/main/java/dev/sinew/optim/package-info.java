/**
 * Optimisers and training utilities: {@link dev.sinew.optim.SGD}, {@link dev.sinew.optim.Adam},
 * {@link dev.sinew.optim.AdamW} and {@link dev.sinew.optim.RMSProp} (each step one call of the
 * backend's fused optimiser op for the whole parameter list), gradient clipping
 * ({@link dev.sinew.optim.GradClip}), explicit penalties ({@link dev.sinew.optim.Regularization}) and
 * closed-form learning-rate schedules ({@link dev.sinew.optim.LrScheduler}). An optimiser's state
 * ({@link dev.sinew.optim.OptimizerState}: moments, step counts, rate) and a schedule's epoch can be
 * read and put back, which is what checkpoints ({@code dev.sinew.io.Checkpoint}) save.
 *
 * <p>Optimisers own their state tensors and free them in {@code close()}; the parameters stay owned
 * by their module. Semantics and defaults follow {@code torch.optim}.
 */
package dev.sinew.optim;
