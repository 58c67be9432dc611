package dev.sinew.bench.cli;

import dev.sinew.bench.Main;
import dev.sinew.data.DataLoader;
import dev.sinew.io.Checkpoint;
import dev.sinew.io.Safetensors;
import dev.sinew.io.SafetensorsFile;
import dev.sinew.io.TensorInfo;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code sinew inspect PATH}: describes a safetensors file (its metadata, every tensor's name, dtype,
 * shape and bytes, and totals) or a checkpoint (a folder written by {@code sinew train --checkpoint},
 * or one {@code ckpt-<step>} folder in it: format version, step, optimiser, loader position,
 * generators, then its files). Reads only headers, plus each checkpoint file once for its checksum.
 * A file that is not well formed is a one-line error naming the problem (exit code 2).
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"List a safetensors file's tensors (name, dtype, shape, bytes), its metadata and totals;"
                + " or describe a checkpoint folder (format version, step, state, files).",
                "A malformed file is a one-line error naming the problem (exit code 2)."})
public final class InspectCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Parameters(paramLabel = "PATH", description = "A .safetensors file, a checkpoint folder, or a ckpt-<step> folder.")
    Path path;

    @Override
    public Integer call() throws IOException {
        PrintStream out = main.out();
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "no such file or folder");
        }
        if (Files.isDirectory(path)) {
            inspectCheckpoint(out, path);
        } else {
            inspectFile(out, path, "");
        }
        out.flush();
        return 0;
    }

    private static void inspectCheckpoint(PrintStream out, Path dir) throws IOException {
        Checkpoint ck = Checkpoint.read(dir); // verifies format, version, sizes and checksums
        out.println("checkpoint: " + ck.folder());
        out.printf(Locale.ROOT, "format: %s version %d%n", Checkpoint.FORMAT, ck.version());
        out.printf(Locale.ROOT, "step: %d%n", ck.step());
        if (!ck.created().isEmpty()) {
            out.println("written: " + ck.created());
        }
        Path root = ck.folder().getParent();
        List<String> all = new ArrayList<>();
        if (root != null) {
            for (Path p : Checkpoint.list(root)) {
                all.add(p.getFileName().toString());
            }
        }
        if (!all.isEmpty()) {
            out.println("checkpoints in " + root + ": " + String.join(", ", all));
        }
        out.println("model: " + ck.modelClass());
        Checkpoint.OptimizerInfo o = ck.optimizer();
        if (o != null) {
            out.printf(Locale.ROOT, "optimizer: %s, lr %s, %d steps, %d parameters%n", o.name(), o.lr(), o.stepCount(),
                    o.paramNames().size());
        }
        if (ck.scheduler() != null) {
            out.printf(Locale.ROOT, "schedule: %s at epoch %d (base lr %s)%n", ck.scheduler().className(),
                    ck.scheduler().lastEpoch(), ck.scheduler().baseLr());
        }
        DataLoader.Position p = ck.loader();
        if (p != null) {
            int batches = (p.samples() + p.batchSize() - 1) / p.batchSize();
            out.printf(Locale.ROOT, "data loader: epoch %d, batch %d of %d (batch size %d, %,d samples, %s)%n", p.epoch(),
                    p.batch(), batches, p.batchSize(), p.samples(),
                    p.shuffled() ? "shuffled, generator seed " + p.seed() + " offset " + p.offset() : "in order");
        }
        for (var e : ck.generators().entrySet()) {
            out.printf(Locale.ROOT, "generator %s: seed %d, offset %d%n", e.getKey(), e.getValue().seed(),
                    e.getValue().offset());
        }
        if (!ck.extra().isEmpty()) {
            out.println("extra: " + String.join(", ", ck.extra().keySet()));
        }
        for (Checkpoint.FileEntry f : ck.files()) {
            out.println();
            inspectFile(out, ck.folder().resolve(f.name()), String.format(Locale.ROOT, ", CRC-32C %08x verified", f.crc32c()));
        }
    }

    private static void inspectFile(PrintStream out, Path file, String note) throws IOException {
        try (SafetensorsFile f = Safetensors.open(file)) {
            out.printf(Locale.ROOT, "file: %s (%,d bytes, header %,d bytes%s)%n", file, f.fileSize(), f.dataStart() - 8,
                    note);
            if (f.metadata().isEmpty()) {
                out.println("metadata: none");
            } else {
                out.println("metadata:");
                for (var e : f.metadata().entrySet()) {
                    out.println("  " + oneLine(e.getKey()) + " = " + oneLine(e.getValue()));
                }
            }
            List<TensorInfo> infos = f.infos();
            int nameWidth = 4;
            int shapeWidth = 5;
            for (TensorInfo t : infos) {
                nameWidth = Math.max(nameWidth, Math.min(60, oneLine(t.name()).length()));
                shapeWidth = Math.max(shapeWidth, Arrays.toString(t.shape()).length());
            }
            String row = "  %-" + nameWidth + "s  %-5s  %-" + shapeWidth + "s  %,15d%n";
            out.printf(Locale.ROOT, "  %-" + nameWidth + "s  %-5s  %-" + shapeWidth + "s  %15s%n", "name", "dtype",
                    "shape", "bytes");
            long bytes = 0;
            for (TensorInfo t : infos) {
                out.printf(Locale.ROOT, row, oneLine(t.name()), t.dtype().fileName(), Arrays.toString(t.shape()),
                        t.byteLength());
                bytes += t.byteLength();
            }
            out.printf(Locale.ROOT, "total: %,d tensor%s, %,d elements, %,d bytes of data%n", infos.size(),
                    infos.size() == 1 ? "" : "s", f.totalElements(), bytes);
        }
    }

    /** A name or value fit for one line of a table: control characters escaped. */
    private static String oneLine(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
