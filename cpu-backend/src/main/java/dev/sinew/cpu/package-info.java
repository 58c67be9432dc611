/**
 * The CPU backend: {@link dev.sinew.cpu.CpuBackend} implements the whole backend SPI with the Java
 * Vector API ({@code jdk.incubator.vector}) over pooled, 64-byte-aligned host memory, multithreaded on
 * a pool it owns; {@link dev.sinew.cpu.CpuProvider} registers it with {@link java.util.ServiceLoader}
 * (name {@code "cpu"}, priority 100).
 *
 * <p>Package-private kernels, one file per op family, each vector loop next to the scalar form it
 * must agree with: {@code Elementwise} (unary, binary, where, fill, copy/cast), {@code Reductions},
 * {@code Sgemm}/{@code Dgemm} (packed, register-blocked matrix multiply) with {@code Matmul} (batching
 * and threading), {@code Softmax} (softmax, log-softmax, cross-entropy, forward and backward),
 * {@code Randoms} (Philox fills, dropout), {@code Optimizers} (SGD, Adam/AdamW, RMSProp),
 * {@code Transpose} (8 x 8 register transposes for packing and transposing copies), {@code Conv}
 * (conv2d and its gradients: direct for one input channel per group, im2col onto {@code Sgemm}
 * otherwise) and {@code Pool} (max/average pooling and gradients). Shared plumbing:
 * {@code Arg} (an operand's memory and geometry), {@code Strided} (coalesced strided iteration) and
 * {@code Parallel} (the worker pool).
 *
 * <p>Vector API rules followed throughout: species in {@code static final} fields; every vector
 * kernel is self-contained (no vector-typed parameters or results, op switches inside the loop), so
 * C2 always knows the species and keeps each operation intrinsic; kernels are kept small enough for
 * C1 to compile, or they would never reach C2. Gemm operands are always native segments: heap
 * segments in the same Vector API accessors pollute their type profiles and C2 deoptimises them.
 */
package dev.sinew.cpu;
