package dev.sinew.io;

import java.io.IOException;

/**
 * A safetensors file that is not well formed: truncated, a header that is not strict UTF-8 JSON of
 * the expected shape, an unknown dtype, offsets that do not tile the data section, and so on.
 *
 * <p>The message names the file (when known), the tensor (when the problem belongs to one) and the
 * problem, e.g. {@code model.safetensors: tensor '0.weight': shape [16, 20] of F32 needs 1280 bytes
 * but data_offsets [0, 1276] span 1276}. {@link #tensor()} and {@link #problem()} give the parts.
 * Immutable.
 */
public final class SafetensorsFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String tensor;
    private final String problem;

    /**
     * @param source  the file name, or null
     * @param tensor  the tensor the problem belongs to, or null for a file-level problem
     * @param problem what is wrong, in words
     */
    public SafetensorsFormatException(String source, String tensor, String problem) {
        this(source, tensor, problem, null);
    }

    public SafetensorsFormatException(String source, String tensor, String problem, Throwable cause) {
        super(message(source, tensor, problem), cause);
        this.tensor = tensor;
        this.problem = problem;
    }

    private static String message(String source, String tensor, String problem) {
        StringBuilder sb = new StringBuilder();
        if (source != null) {
            sb.append(source).append(": ");
        }
        if (tensor != null) {
            sb.append("tensor '").append(Safetensors.printable(tensor)).append("': ");
        }
        return sb.append(problem).toString();
    }

    /** The tensor the problem belongs to, or null when it concerns the whole file. */
    public String tensor() {
        return tensor;
    }

    /** The problem alone, without the file and tensor names. */
    public String problem() {
        return problem;
    }
}
