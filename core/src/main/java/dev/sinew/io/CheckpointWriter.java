package dev.sinew.io;

import com.google.gson.stream.JsonWriter;
import dev.sinew.Generator;
import dev.sinew.Tensor;
import dev.sinew.data.DataLoader;
import dev.sinew.optim.OptimizerState;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes checkpoints into a checkpoint folder, crash-safely (the layout is described at
 * {@link Checkpoint}).
 *
 * <p><b>How a save survives a crash.</b> {@link #save} writes the new checkpoint into a temporary
 * folder {@code .tmp-ckpt-<step>-<random>} (each safetensors file written to a temporary file,
 * fsynced and renamed; {@code state.json}, with every file's size and CRC-32C, written and fsynced
 * last), fsyncs that folder, renames it to {@code ckpt-<step>} and fsyncs the parent, then replaces
 * {@code latest} atomically (temporary file, fsync, rename, fsync). Only then are older checkpoints
 * removed, each first renamed to {@code .trash-…} so that no half-deleted folder ever carries a
 * checkpoint's name. Killed at any instant, the folder holds the previous complete checkpoint (still
 * named by {@code latest}) or the new one; leftovers of an interrupted save are removed by the next
 * {@link #open}.
 *
 * <p><b>Ownership and lifetime.</b> A writer holds an exclusive lock on {@code DIR/.lock} from
 * {@link #open} to {@link #close()}, so two runs never write into one folder (the operating system
 * drops the lock when the process dies). It reads the training objects it is given only during
 * {@link #save}; they stay the caller's. Not thread-safe: one save at a time, from the thread that
 * owns the training objects.
 */
public final class CheckpointWriter implements AutoCloseable {
    private static final String LOCK = ".lock";
    private static final String TMP = ".tmp-";
    private static final String TRASH = ".trash-";

    private final Path dir;
    private final int keep;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private Path lastSaved;
    private boolean closed;

    private CheckpointWriter(Path dir, int keep, FileChannel lockChannel, FileLock lock) {
        this.dir = dir;
        this.keep = keep;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /**
     * Opens (creating it if needed) the checkpoint folder {@code dir} for writing, keeping the newest
     * {@code keep} checkpoints after each save, and removes what an interrupted save left behind.
     *
     * @throws IllegalArgumentException if {@code keep < 1}
     * @throws FileSystemException      if another process (or writer) has the folder open, or it is not a folder
     */
    public static CheckpointWriter open(Path dir, int keep) throws IOException {
        if (keep < 1) {
            throw new IllegalArgumentException("checkpoint: keep must be at least 1, got " + keep);
        }
        Path d = dir.toAbsolutePath().normalize();
        if (Files.exists(d) && !Files.isDirectory(d)) {
            throw new FileSystemException(dir.toString(), null, "is a file, not a checkpoint folder");
        }
        Files.createDirectories(d);
        FileChannel ch = FileChannel.open(d.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock l;
        try {
            l = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            l = null;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        if (l == null) {
            ch.close();
            throw new FileSystemException(dir.toString(), null,
                    "is in use by another run writing checkpoints (its .lock is held)");
        }
        CheckpointWriter w = new CheckpointWriter(d, keep, ch, l);
        try {
            w.removeLeftovers();
        } catch (IOException | RuntimeException e) {
            w.close();
            throw e;
        }
        return w;
    }

    /** The checkpoint folder (absolute). */
    public Path dir() {
        return dir;
    }

    /** The checkpoint this writer saved last, or null before its first save. */
    public Path lastSaved() {
        return lastSaved;
    }

    /** How many checkpoints are kept after a save. */
    public int keep() {
        return keep;
    }

    /**
     * Saves {@code state} as checkpoint {@code ckpt-<step>} and makes it the latest; then removes the
     * checkpoints beyond the newest {@link #keep()} below {@code step}, and any above it (left by a run
     * that was resumed from an earlier checkpoint). Returns the new checkpoint's folder.
     *
     * @param step  the training step (normally the optimiser's step count); must differ from the latest's
     * @param extra caller's strings stored in {@code state.json} (e.g. training progress), read back by
     *              {@link Checkpoint#extra()}
     * @throws IllegalStateException if {@code step} is already the latest checkpoint's, or the writer is closed
     * @throws IOException           if writing fails; the folder then still holds the previous checkpoint
     */
    public Path save(long step, TrainingState state, Map<String, String> extra) throws IOException {
        if (closed) {
            throw new IllegalStateException("checkpoint: the writer for " + dir + " was closed");
        }
        String name = Checkpoint.folderName(step);
        String latest;
        try {
            latest = Checkpoint.readLatest(dir);
        } catch (CheckpointFormatException e) {
            latest = null; // a damaged pointer is replaced below
        }
        if (name.equals(latest) && Files.isDirectory(dir.resolve(name))) {
            throw new IllegalStateException("checkpoint: step " + step + " is already the latest checkpoint in " + dir);
        }
        for (var e : extra.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException("checkpoint: extra has a null key or value: " + e);
            }
        }
        Path tmp = dir.resolve(TMP + name + "-" + Durable.randomSuffix());
        Files.createDirectory(tmp);
        boolean renamed = false;
        try {
            LinkedHashMap<String, Long[]> files = new LinkedHashMap<>();
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", "pt"); // PyTorch's state-dict names, as Hugging Face marks such files
            meta.put("step", Long.toString(step));
            Safetensors.write(tmp.resolve(Checkpoint.MODEL_FILE), state.model().stateDict(), meta);
            files.put(Checkpoint.MODEL_FILE, describe(tmp.resolve(Checkpoint.MODEL_FILE)));
            OptimizerState os = null;
            if (state.optimizer() != null) {
                os = state.optimizer().stateDict();
                Map<String, String> ometa = new LinkedHashMap<>();
                ometa.put("optimizer", os.optimizer());
                ometa.put("step", Long.toString(step));
                Safetensors.write(tmp.resolve(Checkpoint.OPTIM_FILE), os.tensors(), ometa);
                files.put(Checkpoint.OPTIM_FILE, describe(tmp.resolve(Checkpoint.OPTIM_FILE)));
            }
            Durable.writeNew(tmp.resolve(Checkpoint.STATE_FILE), stateJson(step, state, os, files, extra));
            Durable.syncDirectory(tmp);

            Path target = dir.resolve(name);
            if (Files.exists(target)) {
                // Left by a run that went past this step and was resumed from an earlier checkpoint:
                // not the latest (checked above), so it can go.
                Files.move(target, dir.resolve(TRASH + name + "-" + Durable.randomSuffix()), StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            renamed = true;
            Durable.syncDirectory(dir);
            Durable.replace(dir.resolve(Checkpoint.LATEST), (name + "\n").getBytes(StandardCharsets.UTF_8));
            lastSaved = target;
            prune(step);
            return target;
        } finally {
            if (!renamed) {
                try {
                    Durable.deleteTree(tmp);
                } catch (IOException ignored) {
                    // removed by the next open()
                }
            }
        }
    }

    /**
     * Makes {@code checkpoint}, a complete checkpoint of this folder, the latest again and removes the
     * newer ones: how a run that resumes from an earlier checkpoint, into the folder it came from,
     * abandons what came after it (so that its own saves never meet a newer {@code latest}). Crash-safe
     * like {@link #save}: {@code latest} is replaced atomically first, then the newer checkpoints go.
     *
     * @throws IllegalArgumentException if {@code checkpoint} is not a {@code ckpt-<step>} folder of this folder
     */
    public void rewind(Path checkpoint) throws IOException {
        if (closed) {
            throw new IllegalStateException("checkpoint: the writer for " + dir + " was closed");
        }
        Path c = checkpoint.toAbsolutePath().normalize();
        long step = Checkpoint.stepOf(c.getFileName().toString());
        if (step < 0 || !dir.equals(c.getParent()) || !Files.isDirectory(c)) {
            throw new IllegalArgumentException("checkpoint: " + checkpoint + " is not a checkpoint of " + dir);
        }
        Durable.replace(dir.resolve(Checkpoint.LATEST), (c.getFileName() + "\n").getBytes(StandardCharsets.UTF_8));
        for (Path p : Checkpoint.list(dir)) {
            if (Checkpoint.stepOf(p.getFileName().toString()) > step) {
                Files.move(p, dir.resolve(TRASH + p.getFileName() + "-" + Durable.randomSuffix()),
                        StandardCopyOption.ATOMIC_MOVE);
            }
        }
        emptyTrash();
    }

    private static Long[] describe(Path file) throws IOException {
        return new Long[] {Files.size(file), Durable.crc32c(file)};
    }

    private static byte[] stateJson(long step, TrainingState s, OptimizerState os, Map<String, Long[]> files,
            Map<String, String> extra) throws IOException {
        StringWriter sw = new StringWriter();
        try (JsonWriter w = new JsonWriter(sw)) {
            w.setIndent("  ");
            w.setHtmlSafe(false);
            w.beginObject();
            w.name("format").value(Checkpoint.FORMAT);
            w.name("version").value(Checkpoint.VERSION);
            w.name("step").value(step);
            w.name("created").value(Instant.now().truncatedTo(ChronoUnit.MILLIS).toString());
            w.name("files").beginObject();
            for (var e : files.entrySet()) {
                w.name(e.getKey()).beginObject();
                w.name("bytes").value(e.getValue()[0]);
                w.name("crc32c").value(String.format(Locale.ROOT, "%08x", e.getValue()[1]));
                w.endObject();
            }
            w.endObject();

            LinkedHashMap<String, Tensor> sd = s.model().stateDict();
            long elements = 0;
            for (Tensor t : sd.values()) {
                elements += t.numel();
            }
            w.name("model").beginObject();
            w.name("class").value(s.model().getClass().getSimpleName());
            w.name("tensors").value(sd.size());
            w.name("elements").value(elements);
            w.endObject();

            if (os != null) {
                w.name("optimizer").beginObject();
                w.name("name").value(os.optimizer());
                w.name("lr").value(os.lr());
                w.name("step_count").value(os.stepCount());
                w.name("param_names").beginArray();
                for (String n : paramNames(s)) {
                    w.value(n);
                }
                w.endArray();
                w.name("counters").beginObject();
                for (var e : os.counters().entrySet()) {
                    w.name(e.getKey()).value(e.getValue());
                }
                w.endObject();
                w.endObject();
            }
            if (s.scheduler() != null) {
                w.name("scheduler").beginObject();
                w.name("class").value(s.scheduler().getClass().getSimpleName());
                w.name("last_epoch").value(s.scheduler().lastEpoch());
                w.name("base_lr").value(s.scheduler().baseLr());
                w.endObject();
            }
            if (s.loader() != null) {
                DataLoader.Position p = s.loader().position();
                w.name("loader").beginObject();
                w.name("epoch").value(p.epoch());
                w.name("batch").value(p.batch());
                w.name("batch_size").value(p.batchSize());
                w.name("samples").value(p.samples());
                w.name("shuffled").value(p.shuffled());
                w.name("seed").value(p.seed());
                w.name("offset").value(p.offset());
                w.endObject();
            }
            w.name("generators").beginObject();
            for (var e : s.generators().entrySet()) {
                Generator g = e.getValue();
                w.name(e.getKey()).beginObject();
                w.name("seed").value(g.seed());
                w.name("offset").value(g.offset());
                w.endObject();
            }
            w.endObject();
            w.name("extra").beginObject();
            for (var e : extra.entrySet()) {
                w.name(e.getKey()).value(e.getValue());
            }
            w.endObject();
            w.endObject();
        }
        return (sw + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** The model's name of each optimiser parameter, by index ("" for one that is not the model's). */
    private static List<String> paramNames(TrainingState s) {
        IdentityHashMap<Tensor, String> byTensor = new IdentityHashMap<>();
        for (var e : s.model().namedParameters().entrySet()) {
            byTensor.put(e.getValue(), e.getKey());
        }
        List<String> out = new ArrayList<>();
        for (Tensor p : s.optimizer().params()) {
            out.add(byTensor.getOrDefault(p, ""));
        }
        return out;
    }

    /** Removes checkpoints above {@code step} and all but the newest {@code keep - 1} below it. */
    private void prune(long step) throws IOException {
        List<Path> all = Checkpoint.list(dir);
        int kept = 1; // the new one
        for (int i = all.size() - 1; i >= 0; i--) {
            Path p = all.get(i);
            long s = Checkpoint.stepOf(p.getFileName().toString());
            if (s == step) {
                continue;
            }
            if (s < step && kept < keep) {
                kept++;
                continue;
            }
            Files.move(p, dir.resolve(TRASH + p.getFileName() + "-" + Durable.randomSuffix()),
                    StandardCopyOption.ATOMIC_MOVE);
        }
        emptyTrash();
    }

    private void emptyTrash() throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, p -> p.getFileName().toString().startsWith(TRASH))) {
            for (Path p : ds) {
                Durable.deleteTree(p);
            }
        }
    }

    /** Deletes temporary folders and files of interrupted saves (only this writer can be writing). */
    private void removeLeftovers() throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (n.startsWith(TMP) || n.startsWith(TRASH)
                        || (n.startsWith("." + Checkpoint.LATEST + "-") && n.endsWith(".tmp"))) {
                    Durable.deleteTree(p);
                }
            }
        }
    }

    /** Releases the folder's lock. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it too
        }
        try {
            lockChannel.close();
        } catch (IOException ignored) {
            // nothing more to do
        }
    }

    @Override
    public String toString() {
        return "CheckpointWriter[" + dir + ", keep " + keep + "]";
    }
}
