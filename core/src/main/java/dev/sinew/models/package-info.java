/**
 * Ready-made models assembled from {@code dev.sinew.nn} layers, for the standard workloads and
 * benchmarks: {@link dev.sinew.models.LeNet5} and the character-level language model
 * {@link dev.sinew.models.CharLstm}. Each model owns its layers (and so its parameters)
 * and frees them when closed; parameter names follow the equivalent PyTorch modules.
 */
package dev.sinew.models;
