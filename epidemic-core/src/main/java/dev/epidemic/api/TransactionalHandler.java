package dev.epidemic.api;

import java.sql.Connection;

/**
 * A handler whose effect is exactly once: it writes to the database Epidemic reads from, on the
 * {@code connection} it is given, whose transaction also advances the consumer's position. Both commit
 * together or not at all. The handler must not commit, roll back or close the connection.
 */
@FunctionalInterface
public interface TransactionalHandler {
    void handle(Change change, Connection connection) throws Exception;
}
