package dev.sinew.io;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.sinew.Sinew;
import dev.sinew.Tensor;
import dev.sinew.data.DataLoader;
import dev.sinew.nn.Module;
import dev.sinew.optim.OptimizerState;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One training checkpoint read back from disk, and the folder layout it lives in.
 *
 * <p><b>Layout.</b> A checkpoint folder {@code DIR} (what {@code sinew train --checkpoint DIR} names)
 * holds complete checkpoints {@code ckpt-<step>} (the step zero-padded to 8 digits), a file
 * {@code latest} naming the newest one, and while a checkpoint is being written, a temporary
 * {@code .tmp-ckpt-…} folder. Each {@code ckpt-<step>} holds
 * <ul>
 *   <li>{@code model.safetensors}: the model's state dict under PyTorch's names (PyTorch's
 *       {@code safetensors.torch.load_file} reads it as is);</li>
 *   <li>{@code optim.safetensors}: the optimiser's state tensors under {@code <parameter index>.<slot>}
 *       ({@code 0.exp_avg}), when there is an optimiser;</li>
 *   <li>{@code state.json}: format name and version, the step, the files with their sizes and
 *       CRC-32C checksums, the optimiser's rate, step count and per-parameter counters, the schedule's
 *       epoch, the data loader's position, the generators' states and the caller's extra strings.</li>
 * </ul>
 * A {@code ckpt-<step>} folder only ever appears complete: {@link CheckpointWriter} builds it under a
 * temporary name, fsyncs every file and the folder, and renames it into place; {@code latest} is
 * replaced atomically afterwards. So whenever the process dies, the folder holds the previous
 * complete checkpoint, or the new one.
 *
 * <p><b>Reading.</b> {@link #read(Path)} takes either {@code DIR} (then the checkpoint {@code latest}
 * names, else the highest-numbered one) or one {@code ckpt-<step>} folder; it checks the format name,
 * the version ({@value #VERSION} or older) and every listed file's size and checksum, and reports any
 * problem as a one-line {@link CheckpointFormatException}. {@link #restore} then puts the state into
 * freshly built training objects.
 *
 * <p>Immutable (the restore writes only into the objects given); thread-safe.
 */
public final class Checkpoint {
    /** The format name in {@code state.json}. */
    public static final String FORMAT = "sinew-checkpoint";
    /** The newest format version this Sinew writes and reads. */
    public static final int VERSION = 1;
    /** The model's file in a checkpoint. */
    public static final String MODEL_FILE = "model.safetensors";
    /** The optimiser's file in a checkpoint. */
    public static final String OPTIM_FILE = "optim.safetensors";
    /** The description of a checkpoint. */
    public static final String STATE_FILE = "state.json";
    /** The pointer to the newest checkpoint in a checkpoint folder. */
    public static final String LATEST = "latest";

    static final String PREFIX = "ckpt-";
    private static final Pattern NAME = Pattern.compile("ckpt-(\\d{1,18})");
    private static final long MAX_STATE_BYTES = 64L << 20;

    /** A file of the checkpoint: its name, size in bytes and CRC-32C. */
    public record FileEntry(String name, long bytes, long crc32c) {
    }

    /**
     * The optimiser part: its name ({@code "Adam"}), rate, step count, per-parameter counters, and the
     * parameter names by index (from the model, where the optimiser's parameters are the model's).
     */
    public record OptimizerInfo(String name, double lr, long stepCount, Map<String, Long> counters,
            List<String> paramNames) {
        public OptimizerInfo {
            counters = Collections.unmodifiableMap(new LinkedHashMap<>(counters));
            paramNames = List.copyOf(paramNames);
        }
    }

    /** The schedule part: the schedule's class name, its epoch and base rate. */
    public record SchedulerInfo(String className, long lastEpoch, double baseLr) {
    }

    /** A generator's state. */
    public record GeneratorState(long seed, long offset) {
    }

    private final Path folder;
    private final long step;
    private final int version;
    private final String created;
    private final List<FileEntry> files;
    private final String modelClass;
    private final OptimizerInfo optimizer;
    private final SchedulerInfo scheduler;
    private final DataLoader.Position loader;
    private final Map<String, GeneratorState> generators;
    private final Map<String, String> extra;

    private Checkpoint(Path folder, long step, int version, String created, List<FileEntry> files, String modelClass,
            OptimizerInfo optimizer, SchedulerInfo scheduler, DataLoader.Position loader,
            Map<String, GeneratorState> generators, Map<String, String> extra) {
        this.folder = folder;
        this.step = step;
        this.version = version;
        this.created = created;
        this.files = List.copyOf(files);
        this.modelClass = modelClass;
        this.optimizer = optimizer;
        this.scheduler = scheduler;
        this.loader = loader;
        this.generators = Collections.unmodifiableMap(new LinkedHashMap<>(generators));
        this.extra = Collections.unmodifiableMap(new LinkedHashMap<>(extra));
    }

    // ---- names -----------------------------------------------------------------------------------

    /** The folder name of the checkpoint at {@code step}: {@code ckpt-00000012}. */
    public static String folderName(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("checkpoint: step must be >= 0, got " + step);
        }
        return String.format(Locale.ROOT, "%s%08d", PREFIX, step);
    }

    /** The step of a {@code ckpt-<step>} folder name, or -1 for any other name. */
    static long stepOf(String name) {
        Matcher m = NAME.matcher(name);
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /**
     * The complete checkpoints in checkpoint folder {@code dir}, by step ascending (empty when there
     * are none or {@code dir} does not exist).
     */
    public static List<Path> list(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (stepOf(p.getFileName().toString()) >= 0 && Files.isDirectory(p)) {
                    out.add(p);
                }
            }
        }
        out.sort((a, b) -> Long.compare(stepOf(a.getFileName().toString()), stepOf(b.getFileName().toString())));
        return out;
    }

    /** The checkpoint name in {@code dir/latest}, or null when there is no such file. */
    static String readLatest(Path dir) throws IOException {
        Path p = dir.resolve(LATEST);
        if (!Files.isRegularFile(p)) {
            return null;
        }
        if (Files.size(p) > 256) {
            throw new CheckpointFormatException(p, "is " + Files.size(p) + " bytes, not a checkpoint name");
        }
        String name = new String(Files.readAllBytes(p), StandardCharsets.UTF_8).strip();
        if (stepOf(name) < 0) {
            throw new CheckpointFormatException(p, "holds '" + Safetensors.printable(name)
                    + "', not a checkpoint name like ckpt-00000012");
        }
        return name;
    }

    /**
     * The checkpoint folder {@link #read} would use for {@code path}: {@code path} itself when it
     * holds a {@code state.json}; else the checkpoint named by {@code path/latest}; else the
     * highest-numbered {@code ckpt-<step>} in {@code path}.
     *
     * @throws NoSuchFileException        if {@code path} does not exist or holds no checkpoint
     * @throws CheckpointFormatException if {@code latest} is malformed or names a missing checkpoint
     */
    public static Path resolve(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "no such file or folder");
        }
        if (!Files.isDirectory(path)) {
            throw new CheckpointFormatException(path, "is a file, not a checkpoint folder");
        }
        if (Files.isRegularFile(path.resolve(STATE_FILE))) {
            return path;
        }
        String latest = readLatest(path);
        if (latest != null) {
            Path p = path.resolve(latest);
            if (!Files.isDirectory(p)) {
                throw new CheckpointFormatException(path.resolve(LATEST), "names " + latest
                        + ", which is not in the folder");
            }
            return p;
        }
        List<Path> all = list(path);
        if (all.isEmpty()) {
            throw new NoSuchFileException(path.toString(), null,
                    "holds no checkpoint (no 'latest' file, no ckpt-<step> folder)");
        }
        return all.get(all.size() - 1);
    }

    // ---- reading ---------------------------------------------------------------------------------

    /**
     * Reads and verifies the checkpoint at {@code path} (a checkpoint folder or one {@code ckpt-<step>}
     * folder, see {@link #resolve}): the description, the format version and every file's size and
     * CRC-32C (which reads the files once).
     *
     * @throws CheckpointFormatException for anything malformed, too new, missing or corrupt
     * @throws NoSuchFileException        if there is no checkpoint at {@code path}
     */
    public static Checkpoint read(Path path) throws IOException {
        Path folder = resolve(path);
        Path stateFile = folder.resolve(STATE_FILE);
        if (!Files.isRegularFile(stateFile)) {
            throw new CheckpointFormatException(folder, "has no " + STATE_FILE + " (not a checkpoint, or damaged)");
        }
        long size = Files.size(stateFile);
        if (size > MAX_STATE_BYTES) {
            throw new CheckpointFormatException(stateFile, "is " + size + " bytes, larger than a checkpoint description"
                    + " may be (" + MAX_STATE_BYTES + ")");
        }
        JsonObject o = parseJson(stateFile, Files.readAllBytes(stateFile));
        Fields f = new Fields(stateFile);
        String format = f.string(o, "format");
        if (!FORMAT.equals(format)) {
            throw new CheckpointFormatException(stateFile, "format is '" + Safetensors.printable(format)
                    + "', not '" + FORMAT + "'");
        }
        long version = f.integer(o, "version");
        if (version > VERSION) {
            throw new CheckpointFormatException(stateFile, "checkpoint format version " + version
                    + " is newer than this Sinew reads (" + VERSION + "); use a newer Sinew");
        }
        if (version < 1) {
            throw new CheckpointFormatException(stateFile, "checkpoint format version " + version + " is invalid");
        }
        long step = f.integer(o, "step");
        if (step < 0) {
            throw new CheckpointFormatException(stateFile, "step " + step + " is negative");
        }
        String created = o.has("created") ? f.string(o, "created") : "";

        List<FileEntry> files = new ArrayList<>();
        JsonObject fo = f.object(o, "files");
        for (String name : fo.keySet()) {
            if (!name.equals(MODEL_FILE) && !name.equals(OPTIM_FILE)) {
                throw new CheckpointFormatException(stateFile, "lists an unknown file '" + Safetensors.printable(name)
                        + "'");
            }
            JsonObject e = f.object(fo, name);
            long bytes = f.integer(e, "bytes");
            String crcHex = f.string(e, "crc32c");
            long crc;
            try {
                crc = Long.parseLong(crcHex, 16);
            } catch (NumberFormatException ex) {
                throw new CheckpointFormatException(stateFile, "crc32c of " + name + " is '"
                        + Safetensors.printable(crcHex) + "', not a hexadecimal number");
            }
            files.add(new FileEntry(name, bytes, crc));
        }
        if (files.stream().noneMatch(e -> e.name().equals(MODEL_FILE))) {
            throw new CheckpointFormatException(stateFile, "lists no " + MODEL_FILE);
        }

        JsonObject mo = f.object(o, "model");
        String modelClass = f.string(mo, "class");

        OptimizerInfo opt = null;
        if (o.has("optimizer") && !o.get("optimizer").isJsonNull()) {
            JsonObject oo = f.object(o, "optimizer");
            Map<String, Long> counters = new LinkedHashMap<>();
            JsonObject co = f.object(oo, "counters");
            for (String k : co.keySet()) {
                counters.put(k, f.integer(co, k));
            }
            List<String> names = new ArrayList<>();
            for (JsonElement e : f.array(oo, "param_names")) {
                names.add(f.asString(e, "param_names"));
            }
            opt = new OptimizerInfo(f.string(oo, "name"), f.number(oo, "lr"), f.integer(oo, "step_count"), counters,
                    names);
            if (files.stream().noneMatch(e -> e.name().equals(OPTIM_FILE))) {
                throw new CheckpointFormatException(stateFile, "has optimizer state but lists no " + OPTIM_FILE);
            }
        }
        SchedulerInfo sched = null;
        if (o.has("scheduler") && !o.get("scheduler").isJsonNull()) {
            JsonObject so = f.object(o, "scheduler");
            sched = new SchedulerInfo(f.string(so, "class"), f.integer(so, "last_epoch"), f.number(so, "base_lr"));
        }
        DataLoader.Position pos = null;
        if (o.has("loader") && !o.get("loader").isJsonNull()) {
            JsonObject lo = f.object(o, "loader");
            try {
                pos = new DataLoader.Position(f.int32(lo, "epoch"), f.int32(lo, "batch"), f.int32(lo, "batch_size"),
                        f.int32(lo, "samples"), f.bool(lo, "shuffled"), f.integer(lo, "seed"), f.integer(lo, "offset"));
            } catch (IllegalArgumentException e) {
                throw new CheckpointFormatException(stateFile, "loader: " + e.getMessage());
            }
        }
        Map<String, GeneratorState> gens = new LinkedHashMap<>();
        JsonObject go = f.object(o, "generators");
        for (String name : go.keySet()) {
            JsonObject g = f.object(go, name);
            long offset = f.integer(g, "offset");
            if (offset < 0) {
                throw new CheckpointFormatException(stateFile, "generator '" + Safetensors.printable(name)
                        + "' has a negative offset " + offset);
            }
            gens.put(name, new GeneratorState(f.integer(g, "seed"), offset));
        }
        Map<String, String> extra = new LinkedHashMap<>();
        if (o.has("extra")) {
            JsonObject eo = f.object(o, "extra");
            for (String k : eo.keySet()) {
                extra.put(k, f.string(eo, k));
            }
        }

        for (FileEntry e : files) {
            verify(folder.resolve(e.name()), e);
        }
        return new Checkpoint(folder, step, (int) version, created, files, modelClass, opt, sched, pos, gens, extra);
    }

    private static void verify(Path file, FileEntry e) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new CheckpointFormatException(file, "is missing (listed in " + STATE_FILE + ")");
        }
        long size = Files.size(file);
        if (size != e.bytes()) {
            throw new CheckpointFormatException(file, "is " + size + " bytes, " + STATE_FILE + " says " + e.bytes()
                    + " (truncated or replaced?)");
        }
        long crc = Durable.crc32c(file);
        if (crc != e.crc32c()) {
            throw new CheckpointFormatException(file, String.format(Locale.ROOT,
                    "checksum mismatch: CRC-32C %08x, %s says %08x (the file is corrupt)", crc, STATE_FILE, e.crc32c()));
        }
    }

    private static JsonObject parseJson(Path file, byte[] bytes) throws CheckpointFormatException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointFormatException(file, "is not valid UTF-8");
        }
        try {
            JsonReader r = new JsonReader(new StringReader(text));
            r.setStrictness(Strictness.STRICT);
            JsonElement e = new Gson().getAdapter(JsonElement.class).read(r);
            boolean trailing;
            try {
                trailing = r.peek() != JsonToken.END_DOCUMENT;
            } catch (IOException x) {
                trailing = true; // a strict reader refuses a second top-level value outright
            }
            if (trailing) {
                throw new CheckpointFormatException(file, "is not valid JSON: data after the top-level object");
            }
            if (!e.isJsonObject()) {
                throw new CheckpointFormatException(file, "is not a JSON object");
            }
            return e.getAsJsonObject();
        } catch (CheckpointFormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            String m = String.valueOf(e.getMessage());
            int see = m.indexOf("\nSee https://");
            m = (see >= 0 ? m.substring(0, see) : m).replace('\n', ' ')
                    .replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed JSON");
            throw new CheckpointFormatException(file, "is not valid JSON: " + m, e);
        }
    }

    /** Typed access to JSON fields, each failure a one-line error naming the file and the field. */
    private record Fields(Path file) {
        private JsonElement get(JsonObject o, String k) throws CheckpointFormatException {
            JsonElement e = o.get(k);
            if (e == null || e.isJsonNull()) {
                throw new CheckpointFormatException(file, "field '" + k + "' is missing");
            }
            return e;
        }

        String string(JsonObject o, String k) throws CheckpointFormatException {
            return asString(get(o, k), k);
        }

        String asString(JsonElement e, String k) throws CheckpointFormatException {
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
                throw new CheckpointFormatException(file, "field '" + k + "' must be a string, got " + e);
            }
            return e.getAsString();
        }

        long integer(JsonObject o, String k) throws CheckpointFormatException {
            JsonElement e = get(o, k);
            if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
                String s = e.getAsJsonPrimitive().getAsString();
                if (s.matches("-?\\d{1,19}")) {
                    try {
                        return Long.parseLong(s);
                    } catch (NumberFormatException ignored) {
                        // out of range: reported below
                    }
                }
            }
            throw new CheckpointFormatException(file, "field '" + k + "' must be a 64-bit integer, got " + abbreviate(e));
        }

        int int32(JsonObject o, String k) throws CheckpointFormatException {
            long v = integer(o, k);
            if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                throw new CheckpointFormatException(file, "field '" + k + "' is " + v + ", beyond a 32-bit integer");
            }
            return (int) v;
        }

        double number(JsonObject o, String k) throws CheckpointFormatException {
            JsonElement e = get(o, k);
            if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
                double d = Double.parseDouble(e.getAsJsonPrimitive().getAsString());
                if (Double.isFinite(d)) {
                    return d;
                }
            }
            throw new CheckpointFormatException(file, "field '" + k + "' must be a finite number, got " + abbreviate(e));
        }

        boolean bool(JsonObject o, String k) throws CheckpointFormatException {
            JsonElement e = get(o, k);
            if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean()) {
                return e.getAsBoolean();
            }
            throw new CheckpointFormatException(file, "field '" + k + "' must be true or false, got " + abbreviate(e));
        }

        JsonObject object(JsonObject o, String k) throws CheckpointFormatException {
            JsonElement e = get(o, k);
            if (!e.isJsonObject()) {
                throw new CheckpointFormatException(file, "field '" + k + "' must be an object, got " + abbreviate(e));
            }
            return e.getAsJsonObject();
        }

        Iterable<JsonElement> array(JsonObject o, String k) throws CheckpointFormatException {
            JsonElement e = get(o, k);
            if (!e.isJsonArray()) {
                throw new CheckpointFormatException(file, "field '" + k + "' must be an array, got " + abbreviate(e));
            }
            return e.getAsJsonArray();
        }

        private static String abbreviate(JsonElement e) {
            String s = e instanceof JsonPrimitive p && p.isString() ? "the string \"" + p.getAsString() + "\""
                    : e.toString();
            return Safetensors.printable(s.length() > 60 ? s.substring(0, 60) + "…" : s);
        }
    }

    // ---- what it holds ---------------------------------------------------------------------------

    /** The {@code ckpt-<step>} folder this was read from. */
    public Path folder() {
        return folder;
    }

    /** The training step the checkpoint was taken after (the optimiser's step count, for {@code sinew train}). */
    public long step() {
        return step;
    }

    /** The format version it was written with. */
    public int version() {
        return version;
    }

    /** When it was written (ISO-8601, UTC), or empty if not recorded. */
    public String created() {
        return created;
    }

    /** Its files with sizes and checksums (verified by {@link #read}). */
    public List<FileEntry> files() {
        return files;
    }

    /** The model's class name when it was saved (information only). */
    public String modelClass() {
        return modelClass;
    }

    /** The optimiser part, or null when the checkpoint has none. */
    public OptimizerInfo optimizer() {
        return optimizer;
    }

    /** The schedule part, or null. */
    public SchedulerInfo scheduler() {
        return scheduler;
    }

    /** The data loader's position, or null. */
    public DataLoader.Position loader() {
        return loader;
    }

    /** The generators' states by name. */
    public Map<String, GeneratorState> generators() {
        return generators;
    }

    /** The caller's extra strings given to {@link CheckpointWriter#save}. */
    public Map<String, String> extra() {
        return extra;
    }

    /** {@code folder/MODEL_FILE}. */
    public Path modelFile() {
        return folder.resolve(MODEL_FILE);
    }

    /** {@code folder/OPTIM_FILE}, or null without an optimiser. */
    public Path optimizerFile() {
        return optimizer == null ? null : folder.resolve(OPTIM_FILE);
    }

    // ---- restoring -------------------------------------------------------------------------------

    /**
     * Puts this checkpoint's state into {@code s}'s objects (built the same way as the saved ones):
     * model parameters and buffers, optimiser state, schedule epoch, data loader position (after which
     * {@link DataLoader#currentEpoch()} continues the saved epoch) and the named generators' states.
     * Parts of {@code s} that are null are left alone; a generator the checkpoint has but {@code s} does
     * not name is ignored. Everything is checked before anything changes: the model's names and shapes
     * (strictly: missing, unexpected and wrongly shaped entries are reported at once), the optimiser's
     * kind and parameters, the schedule's kind and base rate, the loader's batch size, dataset size and
     * shuffling, and that every named generator is in the checkpoint.
     *
     * @throws IllegalArgumentException when {@code s} does not match the checkpoint
     * @throws IOException              if a file cannot be read or is malformed
     */
    public void restore(TrainingState s) throws IOException {
        String where = folder.toString();
        // -- checks, before any change
        List<String> missingGens = new ArrayList<>();
        for (String name : s.generators().keySet()) {
            if (!generators.containsKey(name)) {
                missingGens.add(name);
            }
        }
        if (!missingGens.isEmpty()) {
            throw new IllegalArgumentException(where + ": has no state for generator(s) " + missingGens + " (it has "
                    + generators.keySet() + ")");
        }
        if (s.loader() != null) {
            if (loader == null) {
                throw new IllegalArgumentException(where + ": has no data loader position");
            }
            try {
                s.loader().checkPosition(loader);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
            }
        }
        if (s.optimizer() != null) {
            if (optimizer == null) {
                throw new IllegalArgumentException(where + ": has no optimizer state");
            }
            String mine = s.optimizer().name();
            if (!mine.equals(optimizer.name())) {
                throw new IllegalArgumentException(where + ": holds " + optimizer.name() + " state, the optimizer is "
                        + mine);
            }
            if (!optimizer.paramNames().isEmpty() && optimizer.paramNames().size() != s.optimizer().params().size()) {
                throw new IllegalArgumentException(where + ": the optimizer state is for " + optimizer.paramNames().size()
                        + " parameters, the optimizer has " + s.optimizer().params().size());
            }
        }
        if (s.scheduler() != null) {
            if (scheduler == null) {
                throw new IllegalArgumentException(where + ": has no learning-rate schedule state");
            }
            String cls = s.scheduler().getClass().getSimpleName();
            if (!cls.equals(scheduler.className())) {
                throw new IllegalArgumentException(where + ": holds the state of a " + scheduler.className()
                        + " schedule, not of a " + cls);
            }
            if (Double.compare(s.scheduler().baseLr(), scheduler.baseLr()) != 0) {
                throw new IllegalArgumentException(where + ": the schedule's base rate was " + scheduler.baseLr()
                        + ", this one's is " + s.scheduler().baseLr());
            }
        }
        checkModel(s.model());

        // -- changes
        if (s.optimizer() != null) {
            Sinew sn = s.optimizer().params().get(0).sinew();
            try (var _ = sn.scope(); SafetensorsFile f = Safetensors.open(optimizerFile())) {
                LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
                for (String name : f.names()) {
                    tensors.put(name, f.load(sn, name)); // closed with the scope, after the copy
                }
                s.optimizer().loadStateDict(new OptimizerState(optimizer.name(), optimizer.lr(), optimizer.stepCount(),
                        tensors, optimizer.counters()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
            }
        }
        Safetensors.loadInto(s.model(), modelFile(), true);
        if (s.scheduler() != null) {
            s.scheduler().setLastEpoch(scheduler.lastEpoch());
            s.optimizer().setLr(optimizer.lr()); // the rate saved wins, should the two ever differ
        }
        if (s.loader() != null) {
            s.loader().restore(loader); // sets its generator to the epoch's start and re-draws the order
        }
        for (var e : s.generators().entrySet()) {
            GeneratorState g = generators.get(e.getKey());
            e.getValue().setState(g.seed(), g.offset()); // after the loader: a shared generator ends as saved
        }
    }

    /** The strict name and shape check of {@link Safetensors#loadInto}, without loading. */
    private void checkModel(Module model) throws IOException {
        try (SafetensorsFile f = Safetensors.open(modelFile())) {
            LinkedHashMap<String, Tensor> mine = model.stateDict();
            List<String> missing = new ArrayList<>();
            List<String> unexpected = new ArrayList<>();
            List<String> wrongShape = new ArrayList<>();
            for (var e : mine.entrySet()) {
                if (!f.contains(e.getKey())) {
                    missing.add(e.getKey());
                } else if (!Arrays.equals(f.info(e.getKey()).shape(), e.getValue().dims())) {
                    wrongShape.add(e.getKey() + " (checkpoint " + Arrays.toString(f.info(e.getKey()).shape())
                            + ", model " + e.getValue().shape() + ")");
                }
            }
            for (String name : f.names()) {
                if (!mine.containsKey(name)) {
                    unexpected.add(Safetensors.printable(name));
                }
            }
            if (!missing.isEmpty() || !unexpected.isEmpty() || !wrongShape.isEmpty()) {
                throw new IllegalArgumentException(folder + ": the model does not match the checkpoint's "
                        + modelClass + ": missing keys " + missing + ", unexpected keys " + unexpected
                        + ", wrong shapes " + wrongShape);
            }
        }
    }

    @Override
    public String toString() {
        return "Checkpoint[" + folder + ", step " + step + ", version " + version + "]";
    }
}
