package dev.sinew.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Builds safetensors files byte by byte for the hostile-input tests, bypassing the writer's checks. */
final class RawFile {
    private RawFile() {
    }

    /** {@code header} (unpadded) with its true length, then {@code data}. */
    static byte[] of(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return of(h.length, h, data);
    }

    /** An explicit length field (possibly lying), the header bytes, then the data. */
    static byte[] of(long lengthField, byte[] header, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(lengthField).array());
        out.writeBytes(header);
        out.writeBytes(data);
        return out.toByteArray();
    }

    /** One F32 tensor "w" of {@code n} floats 0, 1, 2, …: a valid file to corrupt. */
    static byte[] valid(int n) {
        ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putFloat(i);
        }
        return of("{\"w\":{\"dtype\":\"F32\",\"shape\":[" + n + "],\"data_offsets\":[0," + 4 * n + "]}}", b.array());
    }

    static Path write(Path dir, String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }
}
