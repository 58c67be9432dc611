package dev.sinew.io;

import dev.sinew.DType;

/**
 * The element types of the safetensors format that Sinew reads, with the Sinew {@link DType} each
 * loads as by default.
 *
 * <p>Default conversions on load: {@code F64} → FLOAT64; {@code F32}, {@code F16}, {@code BF16} and the
 * 8-bit floats → FLOAT32 (exact: every value of the narrower type is a float); every integer type →
 * INT64 (exact; a {@code U64} value above {@link Long#MAX_VALUE} is refused); {@code BOOL} → INT64
 * holding 0 or 1 (any non-zero byte counts as true). INT64 rather than FLOAT32 for booleans keeps masks
 * and flags integral, as PyTorch's {@code bool} is; ask for FLOAT32 explicitly to get 0.0/1.0.
 * Sinew writes only {@code F32}, {@code F64} and {@code I64}, the types its tensors hold.
 */
public enum SafetensorsDType {
    F64(8, DType.FLOAT64),
    F32(4, DType.FLOAT32),
    F16(2, DType.FLOAT32),
    BF16(2, DType.FLOAT32),
    /** float8 e4m3fn (no infinities; {@code S.1111.111} is NaN), PyTorch's {@code float8_e4m3fn}. */
    F8_E4M3(1, DType.FLOAT32),
    /** float8 e5m2, PyTorch's {@code float8_e5m2}: the upper byte of an IEEE half. */
    F8_E5M2(1, DType.FLOAT32),
    I64(8, DType.INT64),
    I32(4, DType.INT64),
    I16(2, DType.INT64),
    I8(1, DType.INT64),
    U64(8, DType.INT64),
    U32(4, DType.INT64),
    U16(2, DType.INT64),
    U8(1, DType.INT64),
    BOOL(1, DType.INT64);

    private final int byteSize;
    private final DType sinewType;

    SafetensorsDType(int byteSize, DType sinewType) {
        this.byteSize = byteSize;
        this.sinewType = sinewType;
    }

    /** Bytes per element in the file. */
    public int byteSize() {
        return byteSize;
    }

    /** The Sinew dtype this loads as unless another is asked for. */
    public DType defaultSinewType() {
        return sinewType;
    }

    /** Whether the file holds floating-point values. */
    public boolean isFloating() {
        return sinewType.isFloating();
    }

    /** The name in the file's header ({@code "F32"}, …); the same as {@link #name()}. */
    public String fileName() {
        return name();
    }

    /** The file type a Sinew dtype is written as. */
    public static SafetensorsDType of(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> F32;
            case FLOAT64 -> F64;
            case INT64 -> I64;
        };
    }

    /** The type with this header name (case-sensitive, as the format is), or null if unknown. */
    public static SafetensorsDType fromFileName(String name) {
        for (SafetensorsDType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }
}
