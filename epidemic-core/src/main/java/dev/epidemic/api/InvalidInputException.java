package dev.epidemic.api;

/**
 * A mistake of the caller's: an unknown table or column, a malformed name, a bad option. The message
 * names the object and what to change; nothing was changed in the database. The command line maps it
 * to exit code 2.
 */
public class InvalidInputException extends EpidemicException {
    public InvalidInputException(String message) {
        super(message);
    }
}
