package dev.sinew;

/**
 * A failure inside a backend or native library (as opposed to bad arguments, which are
 * {@link IllegalArgumentException}s). Subclasses carry the library's status name and message.
 */
public class SinewException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SinewException(String message) {
        super(message);
    }

    public SinewException(String message, Throwable cause) {
        super(message, cause);
    }
}
