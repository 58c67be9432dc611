package dev.sinew.io;

import java.io.IOException;

/**
 * A checkpoint folder that cannot be read back: a {@code state.json} that is not the expected JSON,
 * a format name or version this Sinew does not read, a missing field, a listed file that is missing,
 * of the wrong size or whose checksum differs, a {@code latest} pointer naming no checkpoint.
 *
 * <p>The message is one line naming the file and the problem, e.g. {@code run/ckpt-00000012/state.json:
 * checkpoint format version 3 is newer than this Sinew reads (1)}. Immutable.
 */
public final class CheckpointFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * @param file    the file (or folder) at fault
     * @param problem what is wrong, in words
     */
    public CheckpointFormatException(Object file, String problem) {
        super(file + ": " + problem);
    }

    public CheckpointFormatException(Object file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
