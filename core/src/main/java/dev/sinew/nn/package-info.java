/**
 * Neural-network building blocks: {@link dev.sinew.nn.Module} (named parameters with PyTorch's
 * state-dict names, train/eval modes), the layers {@link dev.sinew.nn.Linear},
 * {@link dev.sinew.nn.Sequential}, {@link dev.sinew.nn.Dropout}, {@link dev.sinew.nn.Flatten} and the
 * activations, the initialisers of {@link dev.sinew.nn.Init}, and the loss functions of
 * {@link dev.sinew.nn.Losses}.
 *
 * <p>Modules own their parameters: they outlive every {@link dev.sinew.Scope} and are freed by
 * {@link dev.sinew.nn.Module#close()}. Outputs and losses are ordinary tensors owned by the scope
 * open when they are computed, so a training step is written inside {@code try (var _ = sn.scope())}.
 */
package dev.sinew.nn;
