package dev.sinew.io;

import dev.sinew.DType;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.spi.HostStorage;
import dev.sinew.spi.View;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An open, validated, memory-mapped safetensors file, from {@link Safetensors#open(Path)} (or a file
 * image already in memory, from {@link Safetensors#open(MemorySegment)}).
 *
 * <pre>{@code
 * try (SafetensorsFile f = Safetensors.open(path)) {
 *     for (String name : f.names()) System.out.println(f.info(name));
 *     Tensor w = f.load(sn, "0.weight");                  // FLOAT32 for F32/F16/BF16 data
 *     Map<String, Tensor> all = f.loadAll(sn);
 * }
 * }</pre>
 *
 * <p><b>What it holds.</b> The parsed header and a read-only mapping of the data section; nothing is
 * read from the data until a tensor is asked for, and then only that tensor's bytes are copied (the
 * operating system pages in just those). The header was fully validated when the file was opened:
 * every tensor lies inside the file, so no later call reads past its end.
 *
 * <p><b>Ownership and lifetime.</b> The caller owns this object and must close it; closing unmaps the
 * file (one opened from memory leaves the caller's segment alone, and the caller keeps it alive). Tensors returned by {@link #load} are independent copies: they are owned like any new tensor
 * (by the {@link dev.sinew.Scope} open on the calling thread, else by the caller) and stay valid after
 * this file is closed. A segment from {@link #raw(String)} is a view of the mapping and is valid only
 * until {@link #close()}.
 *
 * <p><b>Thread safety.</b> Safe for concurrent loads from several threads (the mapping is shared and
 * the header immutable). Closing while another thread is loading makes that load fail with
 * {@link IllegalStateException}, never a crash. If another process truncates the file while it is
 * mapped, a load fails with an {@link IOException} (the JVM turns the resulting bus error into an
 * {@link InternalError}, which is caught here).
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Size of the host buffer that converted data passes through when a backend's storage is not host memory. */
    private static final long STAGING_BYTES = 4L << 20;

    private final Path path;
    private final String source;
    private final long fileSize;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private final Arena arena;
    private final MemorySegment data;
    private final AtomicBoolean closed = new AtomicBoolean();

    private SafetensorsFile(Path path, String source, long fileSize, long dataStart, HeaderParser.Header header,
            Arena arena, MemorySegment data) {
        this.path = path;
        this.source = source;
        this.fileSize = fileSize;
        this.dataStart = dataStart;
        this.tensors = header.tensors();
        this.metadata = header.metadata();
        this.arena = arena;
        this.data = data;
    }

    /** Maps the whole file, then validates it as {@link #of} does. */
    static SafetensorsFile open(Path path) throws IOException {
        String source = String.valueOf(path.getFileName());
        try (FileChannel ch = FileChannel.open(path)) {
            long size = ch.size();
            Safetensors.checkFileSize(size, source); // before mapping: a 0-byte file is refused, not mapped
            Arena arena = Arena.ofShared();
            try {
                return of(path, ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena), arena, source);
            } catch (IOException | RuntimeException | Error e) {
                arena.close();
                throw e;
            }
        }
    }

    /**
     * Validates {@code file} (a whole safetensors file) and wraps it. {@code arena}, if not null, is
     * closed by {@link #close()}.
     */
    static SafetensorsFile of(Path path, MemorySegment file, Arena arena, String source) throws IOException {
        long size = file.byteSize();
        try {
            byte[] header = Safetensors.readHeaderBytes(file, source);
            long dataStart = 8 + header.length;
            HeaderParser.Header h = HeaderParser.parse(header, size - dataStart, source);
            return new SafetensorsFile(path, source, size, dataStart, h, arena, file.asSlice(dataStart));
        } catch (InternalError e) { // a bus error on the mapping
            throw new IOException(source + ": the file changed on disk while being read (truncated?)", e);
        }
    }

    // ---- the header ------------------------------------------------------------------------------

    /** The file this was opened from, or null for one opened from memory. */
    public Path path() {
        return path;
    }

    /** The file's size in bytes when it was opened. */
    public long fileSize() {
        return fileSize;
    }

    /** Byte offset of the data section in the file: 8 + the header length. */
    public long dataStart() {
        return dataStart;
    }

    /** The tensor names, in the header's order (read-only). */
    public Set<String> names() {
        return tensors.keySet();
    }

    /** Every tensor's entry, in the header's order. */
    public List<TensorInfo> infos() {
        return new ArrayList<>(tensors.values());
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The entry of {@code name}, or an {@link IllegalArgumentException} naming it. */
    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            List<String> some = tensors.keySet().stream().limit(8).map(Safetensors::printable).toList();
            throw new IllegalArgumentException(source + ": no tensor named '" + Safetensors.printable(name) + "' (has "
                    + tensors.size() + ": " + String.join(", ", some) + (tensors.size() > 8 ? ", …" : "") + ")");
        }
        return t;
    }

    /** The {@code __metadata__} string pairs (empty when the file has none), read-only. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Total number of elements over all tensors. */
    public long totalElements() {
        long n = 0;
        for (TensorInfo t : tensors.values()) {
            n += t.numel();
        }
        return n;
    }

    // ---- data --------------------------------------------------------------------------------------

    /**
     * The raw little-endian bytes of {@code name} as a read-only view of the mapping (for data Sinew
     * has no dtype for, e.g. F16 bits kept as they are). Valid only until this file is closed; if the
     * file shrinks on disk meanwhile, reading the segment throws {@link InternalError}.
     */
    public MemorySegment raw(String name) {
        checkOpen();
        TensorInfo t = info(name);
        return data.asSlice(t.begin(), t.byteLength()).asReadOnly();
    }

    /** Loads {@code name} as its default Sinew dtype ({@link SafetensorsDType#defaultSinewType()}). */
    public Tensor load(Sinew sn, String name) throws IOException {
        return load(sn, name, info(name).dtype().defaultSinewType());
    }

    /**
     * Loads {@code name} converted to {@code dtype}: any file type loads as FLOAT32 or FLOAT64 (so F16
     * data can be had as FLOAT64); integer and BOOL data also as INT64. Floating data as INT64 is
     * refused. The result is a new contiguous tensor owned by the open scope (else by the caller).
     *
     * @throws IllegalArgumentException for an unknown name, an empty tensor (Sinew has none), a refused
     *                                  conversion, or a U64 value beyond INT64
     * @throws IOException              if the file was truncated on disk while mapped
     */
    public Tensor load(Sinew sn, String name, DType dtype) throws IOException {
        checkOpen();
        TensorInfo t = info(name);
        checkLoadable(t, dtype);
        // Uninitialised: copyInto overwrites every element, and a fill would double the load time.
        Tensor out = sn.empty(dtype, t.shape());
        try {
            copyInto(t, out);
            return out;
        } catch (IOException | RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    /**
     * Every tensor, loaded with its default dtype, by name in the header's order. On failure the
     * tensors already loaded are closed.
     */
    public Map<String, Tensor> loadAll(Sinew sn) throws IOException {
        checkOpen();
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        try {
            for (TensorInfo t : tensors.values()) {
                out.put(t.name(), load(sn, t.name()));
            }
            return out;
        } catch (IOException | RuntimeException | Error e) {
            for (Tensor x : out.values()) {
                x.close();
            }
            throw e;
        }
    }

    /**
     * Copies tensor {@code name} into the existing tensor {@code dst} (same shape; converted to dst's
     * dtype), without allocating a new tensor: how weights are loaded into a built model. The write
     * is in place and not recorded by autograd; it is allowed on leaves that require grad (parameters)
     * but refused on the output of an op.
     */
    public void readInto(String name, Tensor dst) throws IOException {
        checkOpen();
        TensorInfo t = info(name);
        if (!Arrays.equals(t.shape(), dst.dims())) {
            throw new IllegalArgumentException(source + ": tensor '" + Safetensors.printable(name) + "' has shape "
                    + Arrays.toString(t.shape()) + " but the destination is " + dst.shape());
        }
        checkLoadable(t, dst.dtype());
        if (dst.gradFnName() != null) {
            throw new IllegalArgumentException(source + ": readInto '" + Safetensors.printable(name)
                    + "': the destination is the output of " + dst.gradFnName()
                    + ", not a leaf; an in-place load would silently break its gradient");
        }
        if (dst.isContiguous()) {
            copyInto(t, dst);
        } else {
            try (var _ = dst.sinew().scope(); var _ = dst.sinew().noGrad()) {
                Tensor tmp = load(dst.sinew(), name, dst.dtype());
                dst.copy_(tmp); // tmp is closed with the scope
            }
        }
    }

    private void checkLoadable(TensorInfo t, DType dtype) {
        if (t.numel() == 0) {
            throw new IllegalArgumentException(source + ": tensor '" + Safetensors.printable(t.name()) + "' has shape "
                    + Arrays.toString(t.shape()) + " with no elements; Sinew has no empty tensors");
        }
        if (!Convert.canConvert(t.dtype(), dtype)) {
            throw new IllegalArgumentException(source + ": tensor '" + Safetensors.printable(t.name()) + "' holds "
                    + t.dtype() + " data, which does not load as " + dtype + " (load it as FLOAT32/FLOAT64 and "
                    + "convert explicitly)");
        }
    }

    /** Fills contiguous {@code dst} (same element count as {@code t}) from the mapping. */
    private void copyInto(TensorInfo t, Tensor dst) throws IOException {
        View v = dst.storageView();
        DType to = v.dtype();
        long n = t.numel();
        try {
            if (v.storage() instanceof HostStorage hs) {
                // Host memory (reference and CPU backends): convert straight into the tensor's memory.
                MemorySegment seg = hs.segment().asSlice(v.offset() * to.byteSize(), n * to.byteSize());
                Convert.convert(t.dtype(), data, t.begin(), to, seg, 0, n, t.name(), 0);
            } else if (Convert.isRawCopy(t.dtype(), to)) {
                dst.backend().copyFromHost(data.asSlice(t.begin(), t.byteLength()), v);
            } else {
                // A device backend: convert chunk by chunk through a bounded host buffer.
                long chunk = Math.max(1, STAGING_BYTES / to.byteSize());
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment stage = a.allocate(Math.min(chunk, n) * to.byteSize(), 64);
                    int es = t.dtype().byteSize();
                    for (long i = 0; i < n; i += chunk) {
                        long len = Math.min(chunk, n - i);
                        Convert.convert(t.dtype(), data, t.begin() + i * es, to, stage, 0, len, t.name(), i);
                        View part = v.with(v.offset() + i, new long[] {len}, new long[] {1});
                        dst.backend().copyFromHost(stage.asSlice(0, len * to.byteSize()), part);
                    }
                }
            }
        } catch (InternalError e) {
            // A bus error on the mapping: the file shrank on disk after it was opened.
            throw new IOException(source + ": tensor '" + Safetensors.printable(t.name())
                    + "': the file changed on disk while mapped (truncated?)", e);
        }
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException(source + ": safetensors file was closed");
        }
    }

    public boolean isClosed() {
        return closed.get();
    }

    /** Unmaps the file. Idempotent; tensors already loaded stay valid. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true) && arena != null) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + source + ", " + tensors.size() + " tensors, " + fileSize + " bytes]";
    }
}
