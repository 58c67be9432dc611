package dev.sinew.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every malformed file the format allows a hostile writer to produce gives a
 * {@link SafetensorsFormatException} naming the problem (and the tensor, where there is one), and
 * nothing else: no other exception, no read past the file, no allocation sized by a lie.
 */
class SafetensorsHostileTest {
    @TempDir
    Path dir;

    private static final String W16 = "\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}";

    private SafetensorsFormatException refused(byte[] file, String tensor, String... words) throws IOException {
        Path p = RawFile.write(dir, "bad.safetensors", file);
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> {
            try (SafetensorsFile f = Safetensors.open(p)) {
                f.names();
            }
        });
        assertEquals(tensor, e.tensor(), "tensor named by: " + e.getMessage());
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), "message lacks '" + w + "': " + e.getMessage());
        }
        assertTrue(e.getMessage().startsWith("bad.safetensors: "), e.getMessage());
        return e;
    }

    private SafetensorsFormatException refused(String header, int dataBytes, String tensor, String... words)
            throws IOException {
        return refused(RawFile.of(header, new byte[dataBytes]), tensor, words);
    }

    // ---- the file and the length field -----------------------------------------------------------

    @Test
    void emptyFile() throws IOException {
        refused(new byte[0], null, "empty (0 bytes)");
    }

    @Test
    void shorterThanTheLengthField() throws IOException {
        refused(new byte[] {2, 0, 0, 0, 0}, null, "truncated", "5 bytes");
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        byte[] h = "{}".getBytes(StandardCharsets.UTF_8);
        refused(RawFile.of(1000, h, new byte[0]), null, "header length 1000 runs past the end of the file (10 bytes");
    }

    @Test
    void headerLengthAboveTheLimit() throws IOException {
        // 100 MB + 1 claimed by a 10-byte file: refused before anything that size is allocated.
        refused(RawFile.of(100_000_001L, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]), null,
                "header length 100000001 exceeds the limit of 100000000");
        refused(RawFile.of(-1L, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]), null,
                "header length 18446744073709551615 exceeds the limit");
    }

    @Test
    void headerLengthTooShortForJson() throws IOException {
        refused(RawFile.of(0, new byte[0], new byte[0]), null, "header length 0");
    }

    @Test
    void everyTruncationOfAValidFile() throws IOException {
        byte[] good = RawFile.valid(4);
        for (int len = 0; len < good.length; len++) {
            // Only a cut inside the data section is the tensor's fault; before that it is the file's.
            String tensor = len >= good.length - 16 ? "w" : null;
            SafetensorsFormatException e = refused(Arrays.copyOf(good, len), tensor);
            assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("empty")
                    || e.getMessage().contains("past the end") || e.getMessage().contains("not valid JSON"),
                    e.getMessage());
        }
    }

    private SafetensorsFormatException refused(byte[] file, String tensor) throws IOException {
        return refused(file, tensor, new String[0]);
    }

    // ---- encoding and syntax ---------------------------------------------------------------------

    @Test
    void invalidUtf8() throws IOException {
        byte[] h = {'{', '"', 'w', (byte) 0xC3, '(', '"', ':', '{', '}', '}'};
        refused(RawFile.of(h.length, h, new byte[0]), null, "not valid UTF-8 at byte 3");
        byte[] overlong = {'{', '"', (byte) 0xC0, (byte) 0xAF, '"', ':', '1', '}'};
        refused(RawFile.of(overlong.length, overlong, new byte[0]), null, "not valid UTF-8");
        byte[] surrogate = {'{', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', ':', '1', '}'};
        refused(RawFile.of(surrogate.length, surrogate, new byte[0]), null, "not valid UTF-8");
    }

    @Test
    void invalidJson() throws IOException {
        SafetensorsFormatException e = refused("{" + W16 + ",}", 16, null, "not valid JSON", "Expected name at line 1 column");
        assertTrue(!e.getMessage().contains("LENIENT") && !e.getMessage().contains("https"), e.getMessage());
        refused("{" + W16, 16, null, "not valid JSON");
        refused("[" + W16 + "]", 16, null, "not a JSON object");
        refused("{" + W16 + "} {}", 16, null, "data after its JSON object");
        refused("{/* c */" + W16 + "}", 16, null, "not valid JSON");
        refused("{'w':{}}", 0, null, "not valid JSON");
        refused("{w:{}}", 0, null, "not valid JSON");
        refused("{\"w\":{\"dtype\":\"F\u0001\"}}", 0, null, "not valid JSON"); // raw control character
        refused("\"just a string\"", 0, null, "not a JSON object");
        refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16],\"x\":"
                + "[".repeat(1000) + "]".repeat(1000) + "}}", 16, null, "not valid JSON");
    }

    @Test
    void paddingAndWhitespaceAreFine() throws IOException {
        Path p = RawFile.write(dir, "ok.safetensors", RawFile.of("  {" + W16 + "}     \n\t ", new byte[16]));
        try (SafetensorsFile f = Safetensors.open(p)) {
            assertEquals(java.util.Set.of("w"), f.names());
        }
    }

    // ---- entries ---------------------------------------------------------------------------------

    @Test
    void missingFields() throws IOException {
        refused("{\"w\":{\"shape\":[4],\"data_offsets\":[0,16]}}", 16, "w", "missing field 'dtype'");
        refused("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,16]}}", 16, "w", "missing field 'shape'");
        refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[4]}}", 16, "w", "missing field 'data_offsets'");
        refused("{\"w\":[]}", 0, "w", "entry must be an object");
        refused("{\"w\":null}", 0, "w", "entry must be an object");
    }

    @Test
    void wrongFieldTypes() throws IOException {
        refused("{\"w\":{\"dtype\":32,\"shape\":[4],\"data_offsets\":[0,16]}}", 16, "w", "dtype must be a string");
        refused("{\"w\":{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,16]}}", 16, "w", "shape must be an array");
        refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[\"4\"],\"data_offsets\":[0,16]}}", 16, "w", "only integers");
        refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16,32]}}", 16, "w", "exactly 2");
        refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0]}}", 16, "w", "exactly 2");
    }

    @Test
    void unknownDtype() throws IOException {
        refused("{\"w\":{\"dtype\":\"F128\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, "w",
                "unknown or unsupported dtype 'F128'");
        refused("{\"w\":{\"dtype\":\"f32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, "w", "dtype 'f32'");
    }

    @Test
    void shapeDisagreesWithOffsets() throws IOException {
        refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[5],\"data_offsets\":[0,16]}}", 16, "w",
                "shape [5] of F32 needs 20 bytes but data_offsets [0, 16] span 16");
        refused("{\"w\":{\"dtype\":\"F64\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, "w", "needs 32 bytes");
    }

    @Test
    void badDimensions() throws IOException {
        refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}", 16, "w", "negative number -4");
        refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[4.0],\"data_offsets\":[0,16]}}", 16, "w", "4.0, not an integer");
        refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[4e0],\"data_offsets\":[0,16]}}", 16, "w", "not an integer");
        refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,16]}}", 16, "w",
                "too large for a 64-bit integer");
        refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,16]}}", 16, "w",
                "overflows");
        refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[" + "1,".repeat(65) + "4],\"data_offsets\":[0,16]}}", 16, "w",
                "more than 64");
    }

    @Test
    void badOffsets() throws IOException {
        refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[-16,0]}}", 16, "w", "negative number -16");
        refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[16,0]}}", 16, "w", "out of order");
        // past the end of the data section
        refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 12, "w", "past the end");
        // gap at the start, gap in the middle, trailing bytes
        refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[4,20]}}", 20, "w", "gap of 4", "start");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, "b", "gap of 4", "'a'");
        refused("{" + W16 + "}", 20, "w", "4 bytes after the end");
        refused("{}", 8, null, "8 bytes after the end");
        // overlapping
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "b", "overlap tensor 'a'");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "b", "overlap");
    }

    @Test
    void headerOrderNeedNotBeDataOrder() throws IOException {
        // PyTorch's writer sorts the header by name and the data by dtype size: b's data comes first.
        Path p = RawFile.write(dir, "ok.safetensors", RawFile.of("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
                + "\"data_offsets\":[8,12]},\"b\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
                new byte[12]));
        try (SafetensorsFile f = Safetensors.open(p)) {
            assertEquals(java.util.List.of("a", "b"), java.util.List.copyOf(f.names()));
        }
    }

    // ---- duplicates and metadata -----------------------------------------------------------------

    @Test
    void duplicates() throws IOException {
        refused("{" + W16 + "," + W16 + "}", 16, "w", "duplicate tensor name");
        refused("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, "w",
                "duplicate field 'dtype'");
        refused("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}," + W16 + "}", 16, null, "duplicate __metadata__ key 'a'");
        refused("{\"__metadata__\":{},\"__metadata__\":{}," + W16 + "}", 16, null, "duplicate key '__metadata__'");
    }

    @Test
    void metadataMustBeStrings() throws IOException {
        refused("{\"__metadata__\":{\"epoch\":3}," + W16 + "}", 16, null, "value of 'epoch' must be a string, got a number");
        refused("{\"__metadata__\":{\"x\":{\"y\":\"z\"}}," + W16 + "}", 16, null, "must be a string, got an object");
        refused("{\"__metadata__\":{\"x\":null}," + W16 + "}", 16, null, "must be a string, got null");
        refused("{\"__metadata__\":[\"x\"]," + W16 + "}", 16, null, "__metadata__ must be an object");
    }

    @Test
    void emptyTensorsParseButDoNotLoad() throws IOException {
        Path p = RawFile.write(dir, "empty.safetensors", RawFile.of("{\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],"
                + "\"data_offsets\":[0,0]}}", new byte[0]));
        try (SafetensorsFile f = Safetensors.open(p); dev.sinew.Sinew sn = dev.sinew.Sinew.use("reference")) {
            assertEquals(0, f.info("e").numel());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.load(sn, "e"));
            assertTrue(e.getMessage().contains("no empty tensors"), e.getMessage());
        }
    }

    @Test
    void messagesEscapeControlCharactersAndTruncateLongNames() throws IOException {
        String name = "a\\u0000b" + "x".repeat(5000);
        SafetensorsFormatException e = refused("{\"" + name + "\":{\"dtype\":\"X\",\"shape\":[],\"data_offsets\":[0,0]}}",
                0, "a\u0000b" + "x".repeat(5000), "unknown");
        assertTrue(e.getMessage().contains("a\\u0000b"), e.getMessage());
        assertTrue(e.getMessage().length() < 1000, e.getMessage());
    }
}
