package dev.sinew.io;

import java.util.Arrays;

/**
 * One tensor's entry in a safetensors header, already validated against the file.
 *
 * @param name  the tensor's name (a state-dict key such as {@code 0.weight})
 * @param dtype its element type in the file
 * @param shape its dimensions (rank 0 for a scalar; a 0 means an empty tensor, which the format allows
 *              but Sinew cannot load)
 * @param begin byte offset of its first byte, relative to the start of the data section
 * @param end   byte offset one past its last byte, relative to the data section
 *
 * <p>Immutable: {@link #shape()} returns a copy.
 */
public record TensorInfo(String name, SafetensorsDType dtype, long[] shape, long begin, long end) {

    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Number of elements (1 for a scalar, 0 for an empty tensor). */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d; // validated on parse: no overflow
        }
        return n;
    }

    /** Bytes of data in the file, {@code end - begin}. */
    public long byteLength() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && t.name.equals(name) && t.dtype == dtype && Arrays.equals(t.shape, shape)
                && t.begin == begin && t.end == end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
    }
}
