/**
 * The backend SPI: {@link dev.sinew.spi.Backend} (primitive ops over strided {@link dev.sinew.spi.View}s),
 * {@link dev.sinew.spi.FusedOps} (fused ops with composed defaults), {@link dev.sinew.spi.BackendProvider}
 * (ServiceLoader discovery), storage ownership ({@link dev.sinew.spi.Storage}, {@link dev.sinew.spi.LeakDetector})
 * and the host-memory pool that the plain-Java and Vector API backends share.
 * Nothing here records gradients; autograd lives in {@code dev.sinew}.
 */
package dev.sinew.spi;
