/**
 * The CUDA backend (JCuda driver API; cuBLAS and cuDNN 9 through {@code java.lang.foreign}; Sinew's
 * PTX kernels from {@code sinew-kernels}). This module holds no provider yet, so {@code sinew info}
 * does not list a CUDA backend; the CUDA backend issue fills it in.
 */
package dev.sinew.cuda;
