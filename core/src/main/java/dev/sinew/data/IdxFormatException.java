package dev.sinew.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An IDX file that exists but cannot be used: bad magic number, unknown element type, bad
 * dimensions, a payload shorter or longer than its header promises, or corrupt gzip data.
 *
 * <p>The message is one line that starts with the file's path and then names the problem, so a
 * command line can print it as it is.
 */
public final class IdxFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    /** Makes the exception; the message becomes {@code "<file>: <problem>"}. */
    public IdxFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    /** Same, keeping the low-level cause (a {@link java.util.zip.ZipException}, say). */
    public IdxFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file that could not be read. */
    public Path file() {
        return file;
    }
}
