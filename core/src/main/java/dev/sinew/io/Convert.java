package dev.sinew.io;

import dev.sinew.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Element conversion between the file's little-endian types and Sinew's native-order host layout.
 *
 * <p>Same-type copies on a little-endian machine are one bulk {@link MemorySegment#copy}; everything
 * else goes element by element through a small primitive buffer (doubles for floating sources, longs
 * for integer ones, so {@code I64 → FLOAT32} rounds once, like PyTorch's cast). Stateless; thread-safe.
 */
final class Convert {
    static final boolean LITTLE_ENDIAN_HOST = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    private static final ValueLayout.OfDouble LE_F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfByte I8 = ValueLayout.JAVA_BYTE;
    private static final ValueLayout.OfDouble N_F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    private static final ValueLayout.OfFloat N_F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfLong N_I64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private static final int BLOCK = 4096;

    private Convert() {
    }

    /** Whether file data of type {@code from} is bit-for-bit Sinew data of type {@code to} on this machine. */
    static boolean isRawCopy(SafetensorsDType from, DType to) {
        return LITTLE_ENDIAN_HOST && SafetensorsDType.of(to) == from;
    }

    /** Whether {@code from} can load as {@code to}: anything to a float type, integers and bools to INT64. */
    static boolean canConvert(SafetensorsDType from, DType to) {
        return to.isFloating() || !from.isFloating();
    }

    /**
     * Converts {@code count} elements of file type {@code from} at {@code src[srcOff…]} (little-endian)
     * into Sinew type {@code to} at {@code dst[dstOff…]} (native order). {@code first} is the index of
     * the first element within its tensor, for error messages.
     *
     * @throws IllegalArgumentException for a U64 value above {@link Long#MAX_VALUE}
     */
    static void convert(SafetensorsDType from, MemorySegment src, long srcOff, DType to, MemorySegment dst,
            long dstOff, long count, String tensor, long first) {
        if (isRawCopy(from, to)) {
            MemorySegment.copy(src, srcOff, dst, dstOff, count * to.byteSize());
            return;
        }
        int es = from.byteSize();
        int ds = to.byteSize();
        if (from.isFloating()) {
            double[] buf = new double[(int) Math.min(BLOCK, count)];
            for (long done = 0; done < count; done += buf.length) {
                int n = (int) Math.min(buf.length, count - done);
                readDoubles(from, src, srcOff + done * es, buf, n);
                long d = dstOff + done * ds;
                if (to == DType.FLOAT32) {
                    for (int i = 0; i < n; i++) {
                        dst.set(N_F32, d + 4L * i, (float) buf[i]);
                    }
                } else {
                    for (int i = 0; i < n; i++) {
                        dst.set(N_F64, d + 8L * i, buf[i]);
                    }
                }
            }
        } else {
            long[] buf = new long[(int) Math.min(BLOCK, count)];
            for (long done = 0; done < count; done += buf.length) {
                int n = (int) Math.min(buf.length, count - done);
                readLongs(from, src, srcOff + done * es, buf, n, tensor, first + done);
                long d = dstOff + done * ds;
                switch (to) {
                    case FLOAT32 -> {
                        for (int i = 0; i < n; i++) {
                            dst.set(N_F32, d + 4L * i, (float) buf[i]);
                        }
                    }
                    case FLOAT64 -> {
                        for (int i = 0; i < n; i++) {
                            dst.set(N_F64, d + 8L * i, (double) buf[i]);
                        }
                    }
                    case INT64 -> {
                        for (int i = 0; i < n; i++) {
                            dst.set(N_I64, d + 8L * i, buf[i]);
                        }
                    }
                }
            }
        }
    }

    private static void readDoubles(SafetensorsDType from, MemorySegment s, long off, double[] out, int n) {
        switch (from) {
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = s.get(LE_F64, off + 8L * i);
                }
            }
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = s.get(LE_F32, off + 4L * i);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.float16ToFloat(s.get(LE_I16, off + 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat((s.get(LE_I16, off + 2L * i) & 0xFFFF) << 16);
                }
            }
            case F8_E5M2 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.float16ToFloat((short) ((s.get(I8, off + i) & 0xFF) << 8));
                }
            }
            case F8_E4M3 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = e4m3(s.get(I8, off + i) & 0xFF);
                }
            }
            default -> throw new IllegalStateException("not a floating type: " + from);
        }
    }

    /** float8 e4m3fn: bias 7, no infinities, {@code S.1111.111} is NaN. */
    static double e4m3(int b) {
        int exp = (b >>> 3) & 0xF;
        int man = b & 7;
        double sign = (b & 0x80) != 0 ? -1 : 1;
        if (exp == 15 && man == 7) {
            return Double.NaN;
        }
        if (exp == 0) {
            return sign * man * 0x1p-9; // subnormal: man/8 · 2^-6
        }
        return sign * (8 + man) * Math.scalb(1.0, exp - 10); // (1 + man/8) · 2^(exp-7)
    }

    private static void readLongs(SafetensorsDType from, MemorySegment s, long off, long[] out, int n,
            String tensor, long first) {
        switch (from) {
            case I64 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = s.get(LE_I64, off + 8L * i);
                }
            }
            case U64 -> {
                for (int i = 0; i < n; i++) {
                    long v = s.get(LE_I64, off + 8L * i);
                    if (v < 0) {
                        throw new IllegalArgumentException("safetensors: tensor '" + Safetensors.printable(tensor)
                                + "': U64 element " + (first + i) + " = " + Long.toUnsignedString(v)
                                + " does not fit Sinew's INT64");
                    }
                    out[i] = v;
                }
            }
            case I32 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = s.get(LE_I32, off + 4L * i);
                }
            }
            case U32 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = s.get(LE_I32, off + 4L * i) & 0xFFFF_FFFFL;
                }
            }
            case I16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = s.get(LE_I16, off + 2L * i);
                }
            }
            case U16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = s.get(LE_I16, off + 2L * i) & 0xFFFF;
                }
            }
            case I8 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = s.get(I8, off + i);
                }
            }
            case U8 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = s.get(I8, off + i) & 0xFF;
                }
            }
            case BOOL -> {
                for (int i = 0; i < n; i++) {
                    out[i] = s.get(I8, off + i) != 0 ? 1 : 0;
                }
            }
            default -> throw new IllegalStateException("not an integer type: " + from);
        }
    }

    /** Rewrites {@code bytes} of native-order elements of size {@code es} as little-endian, in place. */
    static void nativeToLittleEndian(MemorySegment seg, long bytes, int es) {
        if (LITTLE_ENDIAN_HOST || es == 1) {
            return;
        }
        for (long p = 0; p < bytes; p += es) {
            switch (es) {
                case 8 -> seg.set(LE_I64, p, seg.get(N_I64, p));
                case 4 -> seg.set(LE_I32, p, seg.get(ValueLayout.JAVA_INT_UNALIGNED, p));
                default -> seg.set(LE_I16, p, seg.get(ValueLayout.JAVA_SHORT_UNALIGNED, p));
            }
        }
    }
}
