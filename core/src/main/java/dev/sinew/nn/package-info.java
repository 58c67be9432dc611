/**
 * Neural-network building blocks: {@link dev.sinew.nn.Module} (named parameters with PyTorch's
 * state-dict names, train/eval modes), the layers {@link dev.sinew.nn.Linear},
 * {@link dev.sinew.nn.Sequential}, {@link dev.sinew.nn.Embedding}, {@link dev.sinew.nn.Dropout}, {@link dev.sinew.nn.Flatten} and the
 * activations, the initialisers of {@link dev.sinew.nn.Init}, and the loss functions of
 * {@link dev.sinew.nn.Losses}; the recurrent layers {@link dev.sinew.nn.RNN}, {@link dev.sinew.nn.LSTM},
 * {@link dev.sinew.nn.GRU} (PyTorch's semantics and parameter names, through the fused whole-sequence
 * op), their cells {@link dev.sinew.nn.RNNCell}, {@link dev.sinew.nn.LSTMCell}, {@link dev.sinew.nn.GRUCell},
 * and the seeds' {@link dev.sinew.nn.MinimalGatedUnit} and {@link dev.sinew.nn.ClockworkRNN}.
 *
 * <p>Modules own their parameters: they outlive every {@link dev.sinew.Scope} and are freed by
 * {@link dev.sinew.nn.Module#close()}. Outputs and losses are ordinary tensors owned by the scope
 * open when they are computed, so a training step is written inside {@code try (var _ = sn.scope())}.
 */
package dev.sinew.nn;
