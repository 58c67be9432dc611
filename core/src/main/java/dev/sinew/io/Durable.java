package dev.sinew.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * File-system steps that survive a crash: writes that are on disk before they are visible under
 * their final name (write, fsync, rename, fsync the folder), and deletion of folder trees. Used by
 * the checkpoint writer. Stateless; thread-safe.
 */
final class Durable {
    private Durable() {
    }

    /** A random suffix for temporary names, so two attempts never collide. */
    static String randomSuffix() {
        return Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
    }

    /** Creates {@code file} (which must not exist), writes {@code bytes} and fsyncs it. */
    static void writeNew(Path file, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
    }

    /**
     * Replaces {@code target} atomically by {@code bytes}: a temporary file in the same folder,
     * fsync, rename over the target, fsync the folder. Readers see the old or the new content, never
     * a mixture; a crash leaves at most a {@code .<name>-*.tmp} file behind.
     */
    static void replace(Path target, byte[] bytes) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = null;
        for (int attempt = 0; tmp == null; attempt++) {
            Path t = dir.resolve("." + target.getFileName() + "-" + randomSuffix() + ".tmp");
            try {
                writeNew(t, bytes);
                tmp = t;
            } catch (FileAlreadyExistsException e) {
                if (attempt > 8) {
                    throw e;
                }
            }
        }
        boolean done = false;
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done = true;
            syncDirectory(dir);
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** Makes renames and creations in {@code dir} durable (where the platform can open a folder). */
    static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Windows and some file systems cannot open a folder; nothing more can be done there.
        }
    }

    /** Deletes {@code root} and everything under it; a missing root is fine. */
    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        List<Path> all = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.forEach(all::add);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        all.sort(Comparator.comparingInt(Path::getNameCount).reversed()); // children before parents
        for (Path p : all) {
            try {
                Files.deleteIfExists(p);
            } catch (NoSuchFileException e) {
                // already gone
            }
        }
    }

    /** The CRC-32C of a whole file, read in 1 MiB chunks. */
    static long crc32c(Path file) throws IOException {
        CRC32C crc = new CRC32C();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            while (ch.read(buf) >= 0) {
                buf.flip();
                crc.update(buf);
                buf.clear();
            }
        }
        return crc.getValue();
    }
}
