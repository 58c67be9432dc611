package dev.sinew.io;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.MalformedJsonException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses and validates a safetensors header: strict UTF-8, strict JSON (Gson's streaming
 * {@link JsonReader} in {@link Strictness#STRICT} mode: being a stream it shows every key, so duplicate
 * names, fields and metadata keys are refused here, where Gson's tree parser would keep the last one
 * silently), then the layout rules: each tensor's byte length equals its element count
 * times its dtype size, and the tensors, sorted by offset, tile the data section exactly, with no gap,
 * overlap or trailing bytes (as the reference Rust implementation requires).
 *
 * <p>Everything it allocates is proportional to the header's length, which the caller has already
 * checked against the file size and {@link Safetensors#MAX_HEADER_BYTES}. Stateless; thread-safe.
 */
final class HeaderParser {
    /** The most dimensions a tensor may have (NumPy's limit); more is refused as hostile. */
    static final int MAX_RANK = 64;

    /** A parsed header: tensors in header order, and the {@code __metadata__} pairs (possibly none). */
    record Header(Map<String, TensorInfo> tensors, Map<String, String> metadata) {
    }

    private HeaderParser() {
    }

    static Header parse(byte[] bytes, long dataLength, String source) throws SafetensorsFormatException {
        checkUtf8(bytes, source);
        Header h;
        try {
            h = parseJson(new InputStreamReader(new ByteArrayInputStream(bytes), StandardCharsets.UTF_8), source);
        } catch (SafetensorsFormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // MalformedJsonException, EOFException, IllegalStateException or NumberFormatException from Gson.
            throw new SafetensorsFormatException(source, null, "header is not valid JSON: " + gsonMessage(e), e);
        }
        checkLayout(h.tensors(), dataLength, source);
        return h;
    }

    /** Checks strict UTF-8 in 8 KiB steps, so a large header is never held twice as chars. */
    private static void checkUtf8(byte[] bytes, String source) throws SafetensorsFormatException {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(8192);
        while (true) {
            CoderResult r = dec.decode(in, out, true);
            if (r.isError()) {
                throw new SafetensorsFormatException(source, null, "header is not valid UTF-8 at byte "
                        + in.position() + " of the header");
            }
            out.clear();
            if (r.isUnderflow()) {
                break;
            }
        }
        while (dec.flush(out).isOverflow()) {
            out.clear();
        }
    }

    private static Header parseJson(Reader json, String source) throws IOException {
        JsonReader r = new JsonReader(json);
        r.setStrictness(Strictness.STRICT);
        r.setNestingLimit(32);
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            throw new SafetensorsFormatException(source, null, "header is not a JSON object (starts with "
                    + r.peek() + ")");
        }
        r.beginObject();
        LinkedHashMap<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = null;
        boolean sawMetadata = false;
        while (r.hasNext()) {
            String name = r.nextName();
            if (name.equals("__metadata__")) {
                if (sawMetadata) {
                    throw new SafetensorsFormatException(source, null, "duplicate key '__metadata__' in the header");
                }
                sawMetadata = true;
                metadata = parseMetadata(r, source);
            } else {
                if (tensors.containsKey(name)) {
                    throw new SafetensorsFormatException(source, name, "duplicate tensor name in the header");
                }
                tensors.put(name, parseEntry(r, name, source));
            }
        }
        r.endObject();
        boolean trailing;
        try {
            trailing = r.peek() != JsonToken.END_DOCUMENT;
        } catch (MalformedJsonException e) {
            trailing = true;
        }
        if (trailing) {
            throw new SafetensorsFormatException(source, null, "header has data after its JSON object");
        }
        return new Header(Collections.unmodifiableMap(tensors),
                metadata == null ? Map.of() : Collections.unmodifiableMap(metadata));
    }

    private static Map<String, String> parseMetadata(JsonReader r, String source) throws IOException {
        JsonToken t = r.peek();
        if (t == JsonToken.NULL) {
            r.nextNull();
            return null;
        }
        if (t != JsonToken.BEGIN_OBJECT) {
            throw new SafetensorsFormatException(source, null, "__metadata__ must be an object of strings, got "
                    + describe(t));
        }
        LinkedHashMap<String, String> m = new LinkedHashMap<>();
        r.beginObject();
        while (r.hasNext()) {
            String key = r.nextName();
            if (m.containsKey(key)) {
                throw new SafetensorsFormatException(source, null, "duplicate __metadata__ key '"
                        + Safetensors.printable(key) + "'");
            }
            JsonToken v = r.peek();
            if (v != JsonToken.STRING) {
                throw new SafetensorsFormatException(source, null, "__metadata__ value of '"
                        + Safetensors.printable(key) + "' must be a string, got " + describe(v));
            }
            m.put(key, r.nextString());
        }
        r.endObject();
        return m;
    }

    private static TensorInfo parseEntry(JsonReader r, String name, String source) throws IOException {
        JsonToken t = r.peek();
        if (t != JsonToken.BEGIN_OBJECT) {
            throw new SafetensorsFormatException(source, name, "entry must be an object with dtype, shape and "
                    + "data_offsets, got " + describe(t));
        }
        r.beginObject();
        String dtypeName = null;
        long[] shape = null;
        long[] offsets = null;
        Set<String> seen = new HashSet<>();
        while (r.hasNext()) {
            String key = r.nextName();
            if (!seen.add(key)) {
                throw new SafetensorsFormatException(source, name, "duplicate field '" + Safetensors.printable(key)
                        + "'");
            }
            switch (key) {
                case "dtype" -> {
                    if (r.peek() != JsonToken.STRING) {
                        throw new SafetensorsFormatException(source, name, "dtype must be a string, got "
                                + describe(r.peek()));
                    }
                    dtypeName = r.nextString();
                }
                case "shape" -> shape = readIntArray(r, name, "shape", source);
                case "data_offsets" -> offsets = readIntArray(r, name, "data_offsets", source);
                default -> r.skipValue(); // unknown fields are ignored, as serde does for the Rust reader
            }
        }
        r.endObject();
        if (dtypeName == null) {
            throw new SafetensorsFormatException(source, name, "missing field 'dtype'");
        }
        if (shape == null) {
            throw new SafetensorsFormatException(source, name, "missing field 'shape'");
        }
        if (offsets == null) {
            throw new SafetensorsFormatException(source, name, "missing field 'data_offsets'");
        }
        SafetensorsDType dtype = SafetensorsDType.fromFileName(dtypeName);
        if (dtype == null) {
            throw new SafetensorsFormatException(source, name, "unknown or unsupported dtype '"
                    + Safetensors.printable(dtypeName) + "' (supported: "
                    + Arrays.toString(SafetensorsDType.values()) + ")");
        }
        if (shape.length > MAX_RANK) {
            throw new SafetensorsFormatException(source, name, "shape has " + shape.length
                    + " dimensions, more than the limit of " + MAX_RANK);
        }
        if (offsets.length != 2) {
            throw new SafetensorsFormatException(source, name, "data_offsets must hold exactly 2 numbers [begin, end], "
                    + "got " + offsets.length);
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw new SafetensorsFormatException(source, name, "data_offsets [" + begin + ", " + end
                    + "] are out of order (end before begin)");
        }
        long bytes;
        try {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            bytes = Math.multiplyExact(n, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new SafetensorsFormatException(source, name, "shape " + Arrays.toString(shape)
                    + " overflows: its byte length does not fit in 64 bits");
        }
        if (bytes != end - begin) {
            throw new SafetensorsFormatException(source, name, "shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + bytes + " bytes but data_offsets [" + begin + ", " + end + "] span " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /** An array of non-negative integers that fit a long; a literal like {@code 1.0} or {@code 1e3} is refused. */
    private static long[] readIntArray(JsonReader r, String name, String field, String source) throws IOException {
        if (r.peek() != JsonToken.BEGIN_ARRAY) {
            throw new SafetensorsFormatException(source, name, field + " must be an array of integers, got "
                    + describe(r.peek()));
        }
        r.beginArray();
        long[] out = new long[4];
        int n = 0;
        while (r.hasNext()) {
            if (r.peek() != JsonToken.NUMBER) {
                throw new SafetensorsFormatException(source, name, field + " must hold only integers, got "
                        + describe(r.peek()));
            }
            String lit = r.nextString();
            if (n > MAX_RANK) { // longer than any valid shape or offset pair: stop before it costs memory
                throw new SafetensorsFormatException(source, name, field + " has more than " + MAX_RANK + " entries");
            }
            if (n == out.length) {
                out = Arrays.copyOf(out, n * 2);
            }
            out[n++] = parseNonNegative(lit, name, field, source);
        }
        r.endArray();
        return Arrays.copyOf(out, n);
    }

    private static long parseNonNegative(String lit, String name, String field, String source)
            throws SafetensorsFormatException {
        if (lit.startsWith("-")) {
            throw new SafetensorsFormatException(source, name, field + " holds a negative number " + lit);
        }
        for (int i = 0; i < lit.length(); i++) {
            char c = lit.charAt(i);
            if (c < '0' || c > '9') {
                throw new SafetensorsFormatException(source, name, field + " holds " + lit + ", not an integer");
            }
        }
        try {
            return Long.parseLong(lit);
        } catch (NumberFormatException e) {
            throw new SafetensorsFormatException(source, name, field + " holds " + lit
                    + ", too large for a 64-bit integer");
        }
    }

    /** Gson's message without its advice to parse leniently and its troubleshooting link. */
    private static String gsonMessage(Exception e) {
        String m = String.valueOf(e.getMessage());
        int see = m.indexOf("\nSee https://");
        if (see >= 0) {
            m = m.substring(0, see);
        }
        return m.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed JSON");
    }

    private static String describe(JsonToken t) {
        return switch (t) {
            case BEGIN_ARRAY -> "an array";
            case BEGIN_OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> t.toString();
        };
    }

    /** The tensors, sorted by offset, must tile {@code [0, dataLength)} exactly. */
    private static void checkLayout(Map<String, TensorInfo> tensors, long dataLength, String source)
            throws SafetensorsFormatException {
        List<TensorInfo> sorted = new ArrayList<>(tensors.values());
        for (TensorInfo t : sorted) {
            if (t.end() > dataLength) {
                throw new SafetensorsFormatException(source, t.name(), "data_offsets [" + t.begin() + ", " + t.end()
                        + "] run past the end of the data section (" + dataLength + " bytes; the file is truncated?)");
            }
        }
        sorted.sort((a, b) -> a.begin() != b.begin() ? Long.compare(a.begin(), b.begin())
                : Long.compare(a.end(), b.end()));
        long pos = 0;
        TensorInfo prev = null;
        for (TensorInfo t : sorted) {
            if (t.begin() < pos) {
                throw new SafetensorsFormatException(source, t.name(), "data_offsets [" + t.begin() + ", " + t.end()
                        + "] overlap tensor '" + Safetensors.printable(prev.name()) + "' [" + prev.begin() + ", "
                        + prev.end() + "]");
            }
            if (t.begin() > pos) {
                throw new SafetensorsFormatException(source, t.name(), "data_offsets [" + t.begin() + ", " + t.end()
                        + "] leave a gap of " + (t.begin() - pos) + " unused bytes before it"
                        + (prev == null ? " (at the start of the data section)"
                                : " (after tensor '" + Safetensors.printable(prev.name()) + "')"));
            }
            pos = t.end();
            prev = t;
        }
        if (pos != dataLength) {
            throw new SafetensorsFormatException(source, prev == null ? null : prev.name(), (dataLength - pos)
                    + " bytes after the end of the last tensor's data are not covered by any tensor");
        }
    }
}
