/**
 * Training utilities that sit above modules and optimisers: {@link dev.sinew.train.TruncatedBptt}
 * (truncated back-propagation through time over long sequences, with clipping by global norm).
 *
 * <p>They own only what they say they do (the recurrent state they carry between chunks); models,
 * parameters and optimisers stay with the caller.
 */
package dev.sinew.train;
