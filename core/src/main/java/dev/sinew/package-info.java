/**
 * Sinew's public API: {@link dev.sinew.Sinew} (a backend and its per-thread state, and the tensor
 * factory), {@link dev.sinew.Tensor} (n-dimensional arrays with strided views and reverse-mode
 * autograd), {@link dev.sinew.Scope} (ownership of a step's temporaries), {@link dev.sinew.NoGrad},
 * {@link dev.sinew.Generator} (seeded counter-based randomness), {@link dev.sinew.Functional}
 * (autograd over fused ops). The autograd engine ({@code Node}, {@code Autograd}) is package-private
 * here: gradients are recorded only in core, never by backends.
 */
package dev.sinew;
