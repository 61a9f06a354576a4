package dev.epidemic.api;

/** A failure of Epidemic that is not the caller's input: the database failed or refused. */
public class EpidemicException extends RuntimeException {
    public EpidemicException(String message) {
        super(message);
    }

    public EpidemicException(String message, Throwable cause) {
        super(message, cause);
    }
}
