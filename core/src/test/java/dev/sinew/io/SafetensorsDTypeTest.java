package dev.sinew.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sinew.DType;
import dev.sinew.Tensor;
import dev.sinew.nn.SinewTestBase;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each file dtype loads with the documented conversion, checked on hand-encoded little-endian bytes. */
class SafetensorsDTypeTest extends SinewTestBase {
    @TempDir
    Path dir;

    /** Builds a file from (name → dtype, raw little-endian bytes) with 1-D shapes. */
    private Path file(Map<String, Object[]> entries) throws IOException {
        StringBuilder h = new StringBuilder("{");
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (var e : entries.entrySet()) {
            SafetensorsDType t = (SafetensorsDType) e.getValue()[0];
            byte[] b = (byte[]) e.getValue()[1];
            if (h.length() > 1) {
                h.append(',');
            }
            h.append('"').append(e.getKey()).append("\":{\"dtype\":\"").append(t).append("\",\"shape\":[")
                    .append(b.length / t.byteSize()).append("],\"data_offsets\":[").append(data.size()).append(',')
                    .append(data.size() + b.length).append("]}");
            data.writeBytes(b);
        }
        return RawFile.write(dir, "d.safetensors", RawFile.of(h.append('}').toString(), data.toByteArray()));
    }

    private static byte[] le(int size, long... v) {
        ByteBuffer b = ByteBuffer.allocate(size * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : v) {
            switch (size) {
                case 1 -> b.put((byte) x);
                case 2 -> b.putShort((short) x);
                case 4 -> b.putInt((int) x);
                default -> b.putLong(x);
            }
        }
        return b.array();
    }

    @Test
    void defaultConversions() throws IOException {
        Map<String, Object[]> m = new LinkedHashMap<>();
        // F16: 1, -2, 65504 (max), 2^-24 (smallest subnormal), +inf, NaN
        m.put("f16", new Object[] {SafetensorsDType.F16, le(2, 0x3C00, 0xC000, 0x7BFF, 0x0001, 0x7C00, 0x7E00)});
        // BF16: 1, -2, 3.140625, smallest subnormal 2^-133
        m.put("bf16", new Object[] {SafetensorsDType.BF16, le(2, 0x3F80, 0xC000, 0x4049, 0x0001)});
        m.put("f32", new Object[] {SafetensorsDType.F32, le(4, Float.floatToIntBits(0.1f))});
        m.put("f64", new Object[] {SafetensorsDType.F64, le(8, Double.doubleToLongBits(0.1))});
        // F8 e4m3fn: 1 (0x38), -448 (0xFE, max), 2^-9 (0x01), NaN (0x7F); e5m2: 1 (0x3C), -inf (0xFC), 2^-16 (0x01)
        m.put("e4m3", new Object[] {SafetensorsDType.F8_E4M3, le(1, 0x38, 0xFE, 0x01, 0x7F)});
        m.put("e5m2", new Object[] {SafetensorsDType.F8_E5M2, le(1, 0x3C, 0xFC, 0x01)});
        m.put("i64", new Object[] {SafetensorsDType.I64, le(8, Long.MIN_VALUE, -1, Long.MAX_VALUE)});
        m.put("i32", new Object[] {SafetensorsDType.I32, le(4, Integer.MIN_VALUE, -1, Integer.MAX_VALUE)});
        m.put("i16", new Object[] {SafetensorsDType.I16, le(2, Short.MIN_VALUE, -1, Short.MAX_VALUE)});
        m.put("i8", new Object[] {SafetensorsDType.I8, le(1, -128, -1, 127)});
        m.put("u64", new Object[] {SafetensorsDType.U64, le(8, 0, Long.MAX_VALUE)});
        m.put("u32", new Object[] {SafetensorsDType.U32, le(4, 0, 0xFFFF_FFFFL)});
        m.put("u16", new Object[] {SafetensorsDType.U16, le(2, 0, 0xFFFF)});
        m.put("u8", new Object[] {SafetensorsDType.U8, le(1, 0, 255)});
        m.put("bool", new Object[] {SafetensorsDType.BOOL, le(1, 0, 1, 2)});
        try (SafetensorsFile f = Safetensors.open(file(m))) {
            Tensor f16 = f.load(sn, "f16");
            assertEquals(DType.FLOAT32, f16.dtype());
            float[] g = f16.toFloatArray();
            assertArrayEquals(new float[] {1, -2, 65504, 0x1p-24f, Float.POSITIVE_INFINITY}, java.util.Arrays.copyOf(g, 5));
            assertTrue(Float.isNaN(g[5]));
            assertArrayEquals(new float[] {1, -2, 3.140625f, 0x1p-133f}, f.load(sn, "bf16").toFloatArray());
            assertArrayEquals(new float[] {0.1f}, f.load(sn, "f32").toFloatArray());
            Tensor f64 = f.load(sn, "f64");
            assertEquals(DType.FLOAT64, f64.dtype());
            assertArrayEquals(new double[] {0.1}, f64.toDoubleArray());
            float[] e4 = f.load(sn, "e4m3").toFloatArray();
            assertArrayEquals(new float[] {1, -448, 0x1p-9f}, java.util.Arrays.copyOf(e4, 3));
            assertTrue(Float.isNaN(e4[3]));
            assertArrayEquals(new float[] {1, Float.NEGATIVE_INFINITY, 0x1p-16f}, f.load(sn, "e5m2").toFloatArray());
            assertArrayEquals(new long[] {Long.MIN_VALUE, -1, Long.MAX_VALUE}, f.load(sn, "i64").toLongArray());
            assertArrayEquals(new long[] {Integer.MIN_VALUE, -1, Integer.MAX_VALUE}, f.load(sn, "i32").toLongArray());
            assertArrayEquals(new long[] {Short.MIN_VALUE, -1, Short.MAX_VALUE}, f.load(sn, "i16").toLongArray());
            assertArrayEquals(new long[] {-128, -1, 127}, f.load(sn, "i8").toLongArray());
            assertArrayEquals(new long[] {0, Long.MAX_VALUE}, f.load(sn, "u64").toLongArray());
            assertArrayEquals(new long[] {0, 0xFFFF_FFFFL}, f.load(sn, "u32").toLongArray());
            assertArrayEquals(new long[] {0, 0xFFFF}, f.load(sn, "u16").toLongArray());
            assertArrayEquals(new long[] {0, 255}, f.load(sn, "u8").toLongArray());
            Tensor b = f.load(sn, "bool");
            assertEquals(DType.INT64, b.dtype());
            assertArrayEquals(new long[] {0, 1, 1}, b.toLongArray());
            // Asked otherwise: F16 as FLOAT64, BOOL as FLOAT32, integers as floats.
            assertArrayEquals(new double[] {1, -2, 65504, 0x1p-24, Double.POSITIVE_INFINITY},
                    java.util.Arrays.copyOf(f.load(sn, "f16", DType.FLOAT64).toDoubleArray(), 5));
            assertArrayEquals(new float[] {0, 1, 1}, f.load(sn, "bool", DType.FLOAT32).toFloatArray());
            assertArrayEquals(new double[] {-128, -1, 127}, f.load(sn, "i8", DType.FLOAT64).toDoubleArray());
            // I64 → FLOAT32 rounds once, like a direct long-to-float cast.
            assertArrayEquals(new float[] {(float) Long.MIN_VALUE, -1, (float) Long.MAX_VALUE},
                    f.load(sn, "i64", DType.FLOAT32).toFloatArray());
            assertThrows(IllegalArgumentException.class, () -> f.load(sn, "bf16", DType.INT64));
            assertEquals(SafetensorsDType.F16, f.info("f16").dtype());
            assertEquals(12, f.raw("f16").byteSize());
        }
    }

    @Test
    void u64BeyondInt64IsRefusedByName() throws IOException {
        Map<String, Object[]> m = new LinkedHashMap<>();
        m.put("big", new Object[] {SafetensorsDType.U64, le(8, 5, -1)});
        try (SafetensorsFile f = Safetensors.open(file(m))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.load(sn, "big"));
            assertTrue(e.getMessage().contains("'big': U64 element 1 = 18446744073709551615"), e.getMessage());
        }
        assertEquals(0, sn.backend().liveBuffers() - scope.liveTensors()); // the half-loaded tensor was closed
    }

    @Test
    void e4m3MatchesItsDefinitionForEveryByte() {
        for (int b = 0; b < 256; b++) {
            double v = Convert.e4m3(b);
            int exp = (b >> 3) & 15;
            int man = b & 7;
            if (exp == 15 && man == 7) {
                assertTrue(Double.isNaN(v));
                continue;
            }
            double mag = exp == 0 ? man / 8.0 * Math.pow(2, -6) : (1 + man / 8.0) * Math.pow(2, exp - 7);
            assertEquals((b & 0x80) != 0 ? -mag : mag, v, 0.0, "byte " + b);
        }
    }
}
