package dev.sinew.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * One IDX file (the format of MNIST and Fashion-MNIST), read whole into memory.
 *
 * <p>Layout: a 4-byte magic number {@code 00 00 TT RR} (TT the element type code, RR the rank),
 * RR big-endian 32-bit sizes, then the elements in row-major order, big-endian. {@link #read}
 * accepts the file raw or gzip-compressed (recognised by its first two bytes, not its name) and
 * checks everything the header promises: the magic number, the type code, that every size is
 * positive, and that the payload is exactly as long as the sizes say. Any problem is an
 * {@link IdxFormatException} (or {@link NoSuchFileException} for a missing file) whose one-line
 * message names the file and the problem.
 *
 * <p>Instances are immutable and thread-safe; the payload is private and never handed out.
 */
public final class Idx {
    /** The IDX element types, with their type code and size in bytes. */
    public enum Type {
        UBYTE(0x08, 1),
        BYTE(0x09, 1),
        SHORT(0x0B, 2),
        INT(0x0C, 4),
        FLOAT(0x0D, 4),
        DOUBLE(0x0E, 8);

        private final int code;
        private final int byteSize;

        Type(int code, int byteSize) {
            this.code = code;
            this.byteSize = byteSize;
        }

        /** The code in the third byte of the magic number. */
        public int code() {
            return code;
        }

        /** Bytes per element. */
        public int byteSize() {
            return byteSize;
        }

        /** Whether the elements are integers (so they can be labels). */
        public boolean isInteger() {
            return this != FLOAT && this != DOUBLE;
        }

        static Type ofCode(int code) {
            for (Type t : values()) {
                if (t.code == code) {
                    return t;
                }
            }
            return null;
        }
    }

    /** Largest payload a Java array holds safely. */
    private static final long MAX_PAYLOAD = Integer.MAX_VALUE - 16;

    private final Path source;
    private final Type type;
    private final int[] dims;
    private final byte[] payload; // big-endian elements, row-major
    private final ByteBuffer view; // read-only big-endian view of payload (thread-safe absolute gets)

    private Idx(Path source, Type type, int[] dims, byte[] payload) {
        this.source = source;
        this.type = type;
        this.dims = dims;
        this.payload = payload;
        this.view = ByteBuffer.wrap(payload).order(ByteOrder.BIG_ENDIAN).asReadOnlyBuffer();
    }

    /**
     * Reads and validates an IDX file, raw or gzip-compressed.
     *
     * @throws NoSuchFileException if the file does not exist (message {@code "<file>: no such file"})
     * @throws IdxFormatException if it is not a complete, well-formed IDX file
     * @throws IOException on any other read failure
     */
    public static Idx read(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such file");
        }
        if (Files.isDirectory(file)) {
            throw new IdxFormatException(file, "is a directory, expected an IDX file");
        }
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            raw.mark(2);
            int b0 = raw.read();
            int b1 = raw.read();
            raw.reset();
            boolean gzip = b0 == 0x1f && b1 == 0x8b;
            if (!gzip) {
                return parse(file, raw, false);
            }
            InputStream in;
            try {
                in = new GZIPInputStream(raw, 1 << 16);
            } catch (EOFException e) {
                throw new IdxFormatException(file, "truncated gzip header", e);
            } catch (ZipException e) {
                throw new IdxFormatException(file, "corrupt gzip data (" + e.getMessage() + ")", e);
            }
            try (in) {
                return parse(file, in, true);
            } catch (EOFException e) {
                throw new IdxFormatException(file, "truncated gzip stream (the file ends before the compressed data does)", e);
            } catch (ZipException e) {
                throw new IdxFormatException(file, "corrupt gzip data (" + e.getMessage() + ")", e);
            }
        }
    }

    /**
     * Reads a file and checks that it holds the expected element type and rank, for callers that
     * know what they are loading ({@code "labels: expected a rank-1 ubyte IDX file, found ..."}).
     */
    public static Idx read(Path file, Type expectedType, int expectedRank) throws IOException {
        Idx idx = read(file);
        if (idx.type != expectedType || idx.dims.length != expectedRank) {
            throw new IdxFormatException(file, "expected a rank-" + expectedRank + " " + name(expectedType)
                    + " IDX file, found rank " + idx.dims.length + " " + name(idx.type) + " with sizes "
                    + Arrays.toString(idx.dims));
        }
        return idx;
    }

    private static Idx parse(Path file, InputStream in, boolean gzip) throws IOException {
        String what = gzip ? "decompressed data" : "file";
        byte[] magic = in.readNBytes(4);
        if (magic.length < 4) {
            throw new IdxFormatException(file, "truncated: the " + what + " has only " + magic.length
                    + " bytes, an IDX header needs at least 4");
        }
        int m = ByteBuffer.wrap(magic).getInt();
        if (magic[0] != 0 || magic[1] != 0) {
            throw new IdxFormatException(file, String.format(
                    "bad magic number 0x%08X: not an IDX file (an IDX file starts with two zero bytes, then a type code and a rank)", m));
        }
        Type type = Type.ofCode(magic[2] & 0xff);
        if (type == null) {
            throw new IdxFormatException(file, String.format(
                    "bad magic number 0x%08X: unknown element type code 0x%02X (known: 0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float, 0x0E double)",
                    m, magic[2] & 0xff));
        }
        int rank = magic[3] & 0xff;
        if (rank == 0) {
            throw new IdxFormatException(file, String.format("bad magic number 0x%08X: rank 0, expected at least 1 dimension", m));
        }
        byte[] header = in.readNBytes(4 * rank);
        if (header.length < 4 * rank) {
            throw new IdxFormatException(file, "truncated: the header declares " + rank + " dimensions ("
                    + 4 * rank + " bytes) but the " + what + " ends after " + header.length + " of them");
        }
        ByteBuffer hb = ByteBuffer.wrap(header).order(ByteOrder.BIG_ENDIAN);
        int[] dims = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++) {
            dims[i] = hb.getInt();
            if (dims[i] <= 0) {
                throw new IdxFormatException(file, "bad dimensions " + Arrays.toString(Arrays.copyOf(dims, i + 1))
                        + ": dimension " + i + " has size " + dims[i] + ", sizes must be positive");
            }
            count *= dims[i]; // count stayed below 2^31 before this step, so no overflow here
            if (count > MAX_PAYLOAD / type.byteSize) {
                throw new IdxFormatException(file, "dimensions " + Arrays.toString(dims)
                        + " describe a payload larger than 2 GiB, which Sinew cannot hold in one array");
            }
        }
        int expected = Math.toIntExact(count * type.byteSize);
        byte[] payload = in.readNBytes(expected);
        if (payload.length < expected) {
            throw new IdxFormatException(file, "truncated: the header promises " + expected + " payload bytes ("
                    + shapeText(dims) + " " + name(type) + "), the " + what + " has only " + payload.length);
        }
        if (in.read() != -1) {
            long extra = 1 + in.transferTo(OutputStream.nullOutputStream());
            throw new IdxFormatException(file, "the " + what + " has " + extra + " bytes after the " + expected
                    + "-byte payload its header promises (" + shapeText(dims) + " " + name(type) + ")");
        }
        return new Idx(file, type, dims, payload);
    }

    /**
     * Writes an IDX file (gzip-compressed when {@code gzip}). The payload is the elements in
     * row-major order, big-endian, and must be exactly as long as {@code dims} say. Tests and tools
     * use this to make small files.
     */
    public static void write(Path file, Type type, int[] dims, byte[] payload, boolean gzip) throws IOException {
        if (dims.length == 0 || dims.length > 255) {
            throw new IllegalArgumentException("Idx.write: rank must be 1..255, got " + dims.length);
        }
        long count = 1;
        for (int d : dims) {
            if (d <= 0) {
                throw new IllegalArgumentException("Idx.write: sizes must be positive, got " + Arrays.toString(dims));
            }
            count *= d;
        }
        if (count * type.byteSize != payload.length) {
            throw new IllegalArgumentException("Idx.write: sizes " + Arrays.toString(dims) + " of " + name(type)
                    + " need " + count * type.byteSize + " payload bytes, got " + payload.length);
        }
        ByteBuffer header = ByteBuffer.allocate(4 + 4 * dims.length).order(ByteOrder.BIG_ENDIAN);
        header.put((byte) 0).put((byte) 0).put((byte) type.code).put((byte) dims.length);
        for (int d : dims) {
            header.putInt(d);
        }
        try (OutputStream raw = Files.newOutputStream(file);
                OutputStream out = gzip ? new GZIPOutputStream(raw, 1 << 16) : raw) {
            out.write(header.array());
            out.write(payload);
        }
    }

    /** The file this was read from. */
    public Path source() {
        return source;
    }

    public Type type() {
        return type;
    }

    /** A copy of the sizes, outermost first. */
    public int[] dims() {
        return dims.clone();
    }

    public int rank() {
        return dims.length;
    }

    /** Size of dimension {@code i}. */
    public int dim(int i) {
        return dims[i];
    }

    /** Number of elements. */
    public int count() {
        return payload.length / type.byteSize;
    }

    /** Element {@code i} (row-major, flat) as a double. */
    public double getDouble(int i) {
        int at = i * type.byteSize;
        return switch (type) {
            case UBYTE -> payload[i] & 0xff;
            case BYTE -> payload[i];
            case SHORT -> view.getShort(at);
            case INT -> view.getInt(at);
            case FLOAT -> view.getFloat(at);
            case DOUBLE -> view.getDouble(at);
        };
    }

    /**
     * Elements {@code [from, from + n)} as floats multiplied by {@code scale}, written to
     * {@code dst[dstOffset ...]}. For UBYTE, {@code scale = 1/255f} gives pixels in [0, 1].
     */
    public void copyFloats(int from, int n, float scale, float[] dst, int dstOffset) {
        if (type == Type.UBYTE) {
            for (int i = 0; i < n; i++) {
                dst[dstOffset + i] = (payload[from + i] & 0xff) * scale;
            }
        } else {
            for (int i = 0; i < n; i++) {
                dst[dstOffset + i] = (float) (getDouble(from + i) * scale);
            }
        }
    }

    /** All elements as floats multiplied by {@code scale}; a new array the caller owns. */
    public float[] toFloatArray(float scale) {
        float[] out = new float[count()];
        copyFloats(0, out.length, scale, out, 0);
        return out;
    }

    /**
     * All elements as longs, for labels; a new array the caller owns.
     *
     * @throws IdxFormatException if the element type is not an integer type
     */
    public long[] toLongArray() throws IdxFormatException {
        if (!type.isInteger()) {
            throw new IdxFormatException(source, "expected integer labels, found " + name(type) + " elements");
        }
        long[] out = new long[count()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (long) getDouble(i);
        }
        return out;
    }

    @Override
    public String toString() {
        return "Idx[" + source + ", " + name(type) + " " + shapeText(dims) + "]";
    }

    private static String name(Type t) {
        return t.name().toLowerCase(java.util.Locale.ROOT);
    }

    private static String shapeText(int[] dims) {
        return Arrays.toString(dims);
    }
}
