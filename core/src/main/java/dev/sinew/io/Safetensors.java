package dev.sinew.io;

import com.google.gson.stream.JsonWriter;
import dev.sinew.Tensor;
import dev.sinew.nn.Module;
import dev.sinew.spi.Backend;
import dev.sinew.spi.HostStorage;
import dev.sinew.spi.View;
import java.io.IOException;
import java.io.StringWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reads and writes the safetensors format.
 *
 * <p><b>Format.</b> An 8-byte little-endian unsigned header length {@code N}; {@code N} bytes of UTF-8
 * JSON mapping each tensor name to {@code {"dtype": "F32", "shape": [16, 20], "data_offsets": [begin,
 * end]}} (offsets relative to the data section) plus an optional {@code "__metadata__"} object of
 * string pairs; then the data section, each tensor little-endian and row-major. Writers pad the header
 * with spaces so that the data starts at a multiple of 8.
 *
 * <p><b>Reading</b> ({@link #open}) refuses, with a {@link SafetensorsFormatException} naming the
 * problem and tensor: a file shorter than 8 bytes, a header length beyond the file or above
 * {@link #MAX_HEADER_BYTES}, invalid UTF-8 or JSON (strict: no comments, no trailing commas, no
 * trailing data), duplicate names or keys, missing fields, unknown dtypes, non-integer, negative or
 * overflowing dimensions or offsets, a byte length that disagrees with the shape, and offsets that do
 * not tile the data section exactly (reversed, overlapping, gapped, past the end, or trailing bytes).
 * JSON order need not match data order (PyTorch's writer sorts the header by name and the data by
 * dtype). Unknown fields in a tensor entry are ignored. It allocates at most the header's bytes (at
 * most the file's size) plus the parsed entries; tensor data is read only from validated ranges.
 *
 * <p><b>Writing</b> ({@link #write}) streams each tensor's data to a temporary file in the target's
 * folder, fsyncs it and atomically renames it over the target (then fsyncs the folder), so readers see
 * either the old file or the complete new one, never a partial one. Tensors may be non-contiguous views
 * of any backend; the file is never built in memory (host tensors are written straight from their
 * memory, others through a 4 MiB buffer). Data is laid out 8-byte types first, so every tensor is
 * aligned to its element size, as the Rust writer does.
 *
 * <p>Stateless; every method is thread-safe as long as the tensors written are not modified meanwhile.
 */
public final class Safetensors {
    /** The largest header accepted: 100 MB, the limit of the reference implementation. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final long STAGING_BYTES = 4L << 20;
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long MAX_WRITE_SLICE = 1L << 30;

    private Safetensors() {
    }

    // ---- reading -------------------------------------------------------------------------------------

    /**
     * Maps {@code path} and validates its header (the data is not read until a tensor is loaded). The
     * caller owns the result and closes it.
     *
     * @throws SafetensorsFormatException if the file is not well-formed safetensors
     * @throws IOException                if it cannot be read
     */
    public static SafetensorsFile open(Path path) throws IOException {
        return SafetensorsFile.open(path);
    }

    /**
     * Validates a whole safetensors file already in memory (a resource, a download) and wraps it
     * without copying. The caller keeps ownership of {@code file} and must keep it alive until the
     * result is closed; closing the result does not free it.
     *
     * @throws SafetensorsFormatException if the bytes are not well-formed safetensors
     */
    public static SafetensorsFile open(MemorySegment file) throws IOException {
        checkFileSize(file.byteSize(), "<memory>");
        return SafetensorsFile.of(null, file, null, "<memory>");
    }

    static void checkFileSize(long size, String source) throws SafetensorsFormatException {
        if (size == 0) {
            throw new SafetensorsFormatException(source, null, "file is empty (0 bytes)");
        }
        if (size < 8) {
            throw new SafetensorsFormatException(source, null, "file is truncated: " + size
                    + " bytes, shorter than the 8-byte header length");
        }
    }

    /** Reads the 8-byte length and the header bytes, checking the length against the file size first. */
    static byte[] readHeaderBytes(MemorySegment file, String source) throws SafetensorsFormatException {
        long size = file.byteSize();
        checkFileSize(size, source);
        long n = file.get(LE_LONG, 0); // unsigned in the format: a negative long is above 2^63
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new SafetensorsFormatException(source, null, "header length " + Long.toUnsignedString(n)
                    + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (n > size - 8) {
            throw new SafetensorsFormatException(source, null, "header length " + n + " runs past the end of the file ("
                    + size + " bytes; truncated?)");
        }
        if (n < 2) {
            throw new SafetensorsFormatException(source, null, "header length " + n
                    + " is too short for a JSON object");
        }
        return file.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
    }

    /**
     * Loads {@code path} into {@code module}'s parameters and buffers by state-dict name, converting
     * to each one's dtype, in place, one tensor at a time (no second copy of the model in memory).
     * With {@code strict}, every missing, unexpected and wrongly shaped entry is reported at once,
     * before anything is loaded; without it, unknown and missing names are skipped but shapes must
     * still match. The module's tensors are written under no-grad.
     *
     * @throws IllegalArgumentException for name or shape mismatches
     */
    public static void loadInto(Module module, Path path, boolean strict) throws IOException {
        try (SafetensorsFile f = open(path)) {
            LinkedHashMap<String, Tensor> mine = module.stateDict();
            List<String> missing = new ArrayList<>();
            List<String> unexpected = new ArrayList<>();
            List<String> wrongShape = new ArrayList<>();
            for (var e : mine.entrySet()) {
                if (!f.contains(e.getKey())) {
                    missing.add(e.getKey());
                } else if (!Arrays.equals(f.info(e.getKey()).shape(), e.getValue().dims())) {
                    wrongShape.add(e.getKey() + " (file " + Arrays.toString(f.info(e.getKey()).shape()) + ", module "
                            + e.getValue().shape() + ")");
                }
            }
            for (String name : f.names()) {
                if (!mine.containsKey(name)) {
                    unexpected.add(printable(name));
                }
            }
            if (!wrongShape.isEmpty() || (strict && (!missing.isEmpty() || !unexpected.isEmpty()))) {
                throw new IllegalArgumentException(module.getClass().getSimpleName() + ": loading "
                        + path.getFileName() + ": missing keys " + missing + ", unexpected keys " + unexpected
                        + ", wrong shapes " + wrongShape);
            }
            for (var e : mine.entrySet()) {
                if (f.contains(e.getKey())) {
                    try (var _ = e.getValue().sinew().noGrad()) {
                        f.readInto(e.getKey(), e.getValue());
                    }
                }
            }
        }
    }

    // ---- writing -------------------------------------------------------------------------------------

    /** {@link #write(Path, Map, Map)} without metadata. */
    public static void write(Path path, Map<String, Tensor> tensors) throws IOException {
        write(path, tensors, Map.of());
    }

    /**
     * Writes {@code tensors} (FLOAT32 as F32, FLOAT64 as F64, INT64 as I64) and {@code metadata} to
     * {@code path}, atomically replacing any file there. The header lists the tensors in the map's
     * order. The tensors are only read; the caller keeps them.
     *
     * @throws IllegalArgumentException for a null or {@code "__metadata__"} tensor name, a null or closed
     *                                  tensor, a null metadata key or value, a string that is not valid
     *                                  Unicode, or a header over {@link #MAX_HEADER_BYTES}; nothing is
     *                                  written then
     * @throws IOException              if writing fails; the target is then left as it was
     */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata)
            throws IOException {
        // Layout: 8-byte types first, keeping the map's order within a size, so each tensor is aligned.
        List<Map.Entry<String, Tensor>> order = new ArrayList<>(tensors.size());
        for (var e : tensors.entrySet()) {
            String name = e.getKey();
            Tensor t = e.getValue();
            if (name == null || name.equals("__metadata__")) {
                throw new IllegalArgumentException("safetensors.write: invalid tensor name " + name);
            }
            if (t == null || t.isClosed()) {
                throw new IllegalArgumentException("safetensors.write: tensor '" + printable(name) + "' is "
                        + (t == null ? "null" : "closed"));
            }
            checkUnicode(name, "tensor name");
            order.add(e);
        }
        for (var e : metadata.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException("safetensors.write: metadata has a null key or value: " + e);
            }
            checkUnicode(e.getKey(), "metadata key");
            checkUnicode(e.getValue(), "metadata value");
        }
        order.sort((a, b) -> Integer.compare(b.getValue().dtype().byteSize(), a.getValue().dtype().byteSize()));
        LinkedHashMap<String, long[]> offsets = new LinkedHashMap<>();
        long pos = 0;
        for (var e : order) {
            long bytes = Math.multiplyExact(e.getValue().numel(), (long) e.getValue().dtype().byteSize());
            offsets.put(e.getKey(), new long[] {pos, pos + bytes});
            pos += bytes;
        }
        byte[] header = headerBytes(tensors, metadata, offsets);

        Path target = path.toAbsolutePath();
        Path dir = target.getParent();
        Path tmp = null;
        FileChannel ch = null;
        for (int attempt = 0; ch == null; attempt++) {
            tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                    + ".tmp");
            try {
                ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException e) {
                if (attempt > 8) {
                    throw e;
                }
            }
        }
        boolean done = false;
        try {
            try (FileChannel out = ch; Arena arena = Arena.ofConfined()) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
                writeFully(out, len);
                writeFully(out, ByteBuffer.wrap(header));
                MemorySegment stage = null;
                for (var e : order) {
                    View v = e.getValue().storageView();
                    int es = v.dtype().byteSize();
                    long bytes = v.numel() * es;
                    if (v.storage() instanceof HostStorage hs && v.isContiguous() && Convert.LITTLE_ENDIAN_HOST) {
                        writeFully(out, hs.segment().asSlice(v.offset() * es, bytes));
                    } else {
                        if (stage == null) {
                            stage = arena.allocate(STAGING_BYTES, 64);
                        }
                        writeView(out, e.getValue().backend(), v, stage);
                    }
                }
                out.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done = true;
            syncDirectory(dir);
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    private static byte[] headerBytes(Map<String, Tensor> tensors, Map<String, String> metadata,
            Map<String, long[]> offsets) throws IOException {
        StringWriter sw = new StringWriter();
        try (JsonWriter w = new JsonWriter(sw)) {
            w.setHtmlSafe(false);
            w.beginObject();
            if (!metadata.isEmpty()) {
                w.name("__metadata__").beginObject();
                for (var e : metadata.entrySet()) {
                    w.name(e.getKey()).value(e.getValue());
                }
                w.endObject();
            }
            for (var e : tensors.entrySet()) {
                Tensor t = e.getValue();
                long[] off = offsets.get(e.getKey());
                w.name(e.getKey()).beginObject();
                w.name("dtype").value(SafetensorsDType.of(t.dtype()).fileName());
                w.name("shape").beginArray();
                for (long d : t.dims()) {
                    w.value(d);
                }
                w.endArray();
                w.name("data_offsets").beginArray().value(off[0]).value(off[1]).endArray();
                w.endObject();
            }
            w.endObject();
        }
        byte[] json = sw.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        if (padded > MAX_HEADER_BYTES) {
            throw new IllegalArgumentException("safetensors.write: the header would be " + padded
                    + " bytes, over the limit of " + MAX_HEADER_BYTES);
        }
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void checkUnicode(String s, String what) {
        try {
            StandardCharsets.UTF_8.newEncoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).encode(CharBuffer.wrap(s));
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("safetensors.write: " + what + " '" + printable(s)
                    + "' is not valid Unicode (an unpaired surrogate?)");
        }
    }

    /**
     * Writes a view through {@code stage}: whole if it fits, else in slices along its leading
     * dimension (dropping leading 1s), each slice copied to host with the backend's strided copy.
     */
    private static void writeView(FileChannel out, Backend be, View v, MemorySegment stage) throws IOException {
        int es = v.dtype().byteSize();
        long bytes = v.numel() * es;
        if (bytes <= stage.byteSize()) {
            MemorySegment s = stage.asSlice(0, bytes);
            be.copyToHost(v, s);
            Convert.nativeToLittleEndian(s, bytes, es);
            writeFully(out, s);
            return;
        }
        long[] shape = v.shape();
        long[] strides = v.strides();
        if (shape[0] == 1) {
            writeView(out, be, v.with(v.offset(), Arrays.copyOfRange(shape, 1, shape.length),
                    Arrays.copyOfRange(strides, 1, strides.length)), stage);
            return;
        }
        long rowBytes = bytes / shape[0];
        long rows = Math.max(1, stage.byteSize() / rowBytes);
        for (long i = 0; i < shape[0]; i += rows) {
            long[] part = shape.clone();
            part[0] = Math.min(rows, shape[0] - i);
            writeView(out, be, v.with(v.offset() + i * strides[0], part, strides), stage);
        }
    }

    private static void writeFully(FileChannel out, MemorySegment seg) throws IOException {
        for (long p = 0; p < seg.byteSize(); p += MAX_WRITE_SLICE) {
            writeFully(out, seg.asSlice(p, Math.min(MAX_WRITE_SLICE, seg.byteSize() - p)).asByteBuffer());
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            out.write(buf);
        }
    }

    /** Makes the rename durable. Some platforms cannot open a folder; the rename is then as durable as they allow. */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Windows and some file systems refuse; nothing more can be done there.
        }
    }

    // ---- helpers -------------------------------------------------------------------------------------

    /** A name fit for an error message: control characters escaped, at most 200 characters. */
    static String printable(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && sb.length() < 200; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        if (sb.length() >= 200 && s.length() > 200) {
            sb.append("…(").append(s.length()).append(" chars)");
        }
        return sb.toString();
    }
}
