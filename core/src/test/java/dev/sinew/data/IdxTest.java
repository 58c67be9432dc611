package dev.sinew.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {
    @TempDir
    Path dir;

    private static byte[] ramp(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7);
        }
        return b;
    }

    @Test
    void readsRawUnsignedBytes() throws IOException {
        Path f = dir.resolve("images-idx3-ubyte");
        byte[] payload = ramp(3 * 4 * 5);
        Idx.write(f, Idx.Type.UBYTE, new int[] {3, 4, 5}, payload, false);
        Idx idx = Idx.read(f);
        assertEquals(Idx.Type.UBYTE, idx.type());
        assertArrayEquals(new int[] {3, 4, 5}, idx.dims());
        assertEquals(60, idx.count());
        for (int i = 0; i < 60; i++) {
            assertEquals(payload[i] & 0xff, idx.getDouble(i));
        }
        float[] scaled = idx.toFloatArray(1f / 255f);
        assertEquals((payload[59] & 0xff) / 255f, scaled[59], 0f);
        for (float v : scaled) {
            assertTrue(v >= 0f && v <= 1f);
        }
    }

    @Test
    void readsGzipRecognisedByContentNotName() throws IOException {
        Path f = dir.resolve("labels-no-extension");
        byte[] payload = {0, 1, 2, 9, 5};
        Idx.write(f, Idx.Type.UBYTE, new int[] {5}, payload, true);
        assertEquals(0x1f, Files.readAllBytes(f)[0] & 0xff);
        Idx idx = Idx.read(f, Idx.Type.UBYTE, 1);
        assertArrayEquals(new long[] {0, 1, 2, 9, 5}, idx.toLongArray());
    }

    @Test
    void readsWiderTypesBigEndian() throws IOException {
        Path fi = dir.resolve("ints.gz");
        ByteBuffer bi = ByteBuffer.allocate(8).putInt(-3).putInt(70000);
        Idx.write(fi, Idx.Type.INT, new int[] {2}, bi.array(), true);
        assertArrayEquals(new long[] {-3, 70000}, Idx.read(fi).toLongArray());

        Path ff = dir.resolve("floats");
        ByteBuffer bf = ByteBuffer.allocate(8).putFloat(1.5f).putFloat(-2.25f);
        Idx.write(ff, Idx.Type.FLOAT, new int[] {1, 2}, bf.array(), false);
        Idx fidx = Idx.read(ff);
        assertArrayEquals(new float[] {3f, -4.5f}, fidx.toFloatArray(2f));
        IdxFormatException e = assertThrows(IdxFormatException.class, fidx::toLongArray);
        assertOneLineNaming(e, ff, "integer labels");
    }

    @Test
    void missingFileNamesTheFile() {
        Path f = dir.resolve("nope-idx1-ubyte.gz");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Idx.read(f));
        assertOneLineNaming(e, f, "no such file");
    }

    @Test
    void directoryIsRejected() {
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(dir));
        assertOneLineNaming(e, dir, "directory");
    }

    @Test
    void truncatedPayloadIsReported() throws IOException {
        Path f = dir.resolve("short");
        Idx.write(f, Idx.Type.UBYTE, new int[] {10, 28, 28}, new byte[10 * 28 * 28], false);
        byte[] all = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(all, all.length - 100));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(f));
        assertOneLineNaming(e, f, "truncated");
        assertTrue(e.getMessage().contains("7840"), e.getMessage());
    }

    @Test
    void truncatedHeaderIsReported() throws IOException {
        Path f = dir.resolve("header");
        Files.write(f, new byte[] {0, 0, 8, 3, 0, 0, 0, 10, 0, 0});
        assertOneLineNaming(assertThrows(IdxFormatException.class, () -> Idx.read(f)), f, "truncated");
        Path g = dir.resolve("tiny");
        Files.write(g, new byte[] {0, 0});
        assertOneLineNaming(assertThrows(IdxFormatException.class, () -> Idx.read(g)), g, "truncated");
        Path empty = dir.resolve("empty");
        Files.write(empty, new byte[0]);
        assertOneLineNaming(assertThrows(IdxFormatException.class, () -> Idx.read(empty)), empty, "truncated");
    }

    @Test
    void truncatedGzipIsReported() throws IOException {
        Path f = dir.resolve("cut.gz");
        byte[] noisy = new byte[20_000];
        new java.util.Random(1).nextBytes(noisy); // incompressible, so cutting the file cuts the payload
        Idx.write(f, Idx.Type.UBYTE, new int[] {20_000}, noisy, true);
        byte[] all = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(all, all.length / 2));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(f));
        assertOneLineNaming(e, f, "truncated");
    }

    @Test
    void badMagicIsReported() throws IOException {
        Path f = dir.resolve("magic");
        Files.write(f, new byte[] {0x12, 0x34, 0x56, 0x78, 1, 2, 3, 4});
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(f));
        assertOneLineNaming(e, f, "bad magic number 0x12345678");

        Path t = dir.resolve("type");
        Files.write(t, new byte[] {0, 0, 0x07, 1, 0, 0, 0, 1, 42});
        assertOneLineNaming(assertThrows(IdxFormatException.class, () -> Idx.read(t)), t, "unknown element type code 0x07");

        Path r = dir.resolve("rank0");
        Files.write(r, new byte[] {0, 0, 0x08, 0});
        assertOneLineNaming(assertThrows(IdxFormatException.class, () -> Idx.read(r)), r, "rank 0");
    }

    @Test
    void badDimensionsAreReported() throws IOException {
        Path f = dir.resolve("negative");
        Files.write(f, new byte[] {0, 0, 8, 2, 0, 0, 0, 2, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
        assertOneLineNaming(assertThrows(IdxFormatException.class, () -> Idx.read(f)), f, "size -1");
        Path z = dir.resolve("zero");
        Files.write(z, new byte[] {0, 0, 8, 1, 0, 0, 0, 0});
        assertOneLineNaming(assertThrows(IdxFormatException.class, () -> Idx.read(z)), z, "size 0");
        Path huge = dir.resolve("huge");
        Files.write(huge, new byte[] {0, 0, 0x0E, 2, 0x7f, 0, 0, 0, 0x7f, 0, 0, 0});
        assertOneLineNaming(assertThrows(IdxFormatException.class, () -> Idx.read(huge)), huge, "larger than 2 GiB");
    }

    @Test
    void trailingBytesAreReported() throws IOException {
        Path f = dir.resolve("long");
        Idx.write(f, Idx.Type.UBYTE, new int[] {4}, new byte[] {1, 2, 3, 4}, false);
        Files.write(f, new byte[] {9, 9}, java.nio.file.StandardOpenOption.APPEND);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(f));
        assertOneLineNaming(e, f, "2 bytes after the 4-byte payload");
    }

    @Test
    void expectedTypeAndRankAreChecked() throws IOException {
        Path f = dir.resolve("rank2");
        Idx.write(f, Idx.Type.UBYTE, new int[] {2, 2}, new byte[4], false);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(f, Idx.Type.UBYTE, 1));
        assertOneLineNaming(e, f, "expected a rank-1 ubyte IDX file, found rank 2 ubyte");
    }

    @Test
    void writeChecksItsArguments() {
        Path f = dir.resolve("w");
        assertThrows(IllegalArgumentException.class, () -> Idx.write(f, Idx.Type.UBYTE, new int[] {3}, new byte[2], false));
        assertThrows(IllegalArgumentException.class, () -> Idx.write(f, Idx.Type.UBYTE, new int[0], new byte[0], false));
        assertThrows(IllegalArgumentException.class, () -> Idx.write(f, Idx.Type.UBYTE, new int[] {0}, new byte[0], false));
        assertFalse(Files.exists(f));
    }

    static void assertOneLineNaming(Exception e, Path file, String problem) {
        String m = e.getMessage();
        assertTrue(m.contains(file.toString()), "message should name " + file + ": " + m);
        assertTrue(m.contains(problem), "message should say '" + problem + "': " + m);
        assertFalse(m.contains("\n"), "message should be one line: " + m);
    }
}
