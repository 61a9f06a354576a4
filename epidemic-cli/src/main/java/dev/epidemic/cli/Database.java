package dev.epidemic.cli;

import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.EpidemicException;
import dev.epidemic.engine.Databases;

import javax.sql.DataSource;
import java.io.IOException;
import java.net.UnknownHostException;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The database a command works on, as the global options and the environment name it.
 *
 * @param url      the JDBC URL as given (may carry a password: show it only through {@link Databases#redact})
 * @param user     null when the URL names the user
 * @param password null when the URL carries it, or none is needed
 * @param schema   the schema of Epidemic's log
 */
record Database(String url, String user, String password, String schema) {

    /** An admin for this database, after checking that it can be reached. */
    EpidemicAdmin admin() {
        checkReachable();
        return EpidemicAdmin.create(url, user, password, schema);
    }

    /** A builder for an engine on this database. */
    Epidemic.Builder engine() {
        return Epidemic.builder(dataSource()).schema(schema);
    }

    /** Connections to this database, one per call. */
    DataSource dataSource() {
        return Databases.fromUrl(url, user, password);
    }

    /**
     * Opens and closes one connection, so that an unreachable database is reported the same way by every
     * command, with the URL and the reason, rather than as whatever step happened to need it first.
     */
    void checkReachable() {
        Databases.dialectFor(url, schema); // an unsupported URL is an input error, reported before trying to connect
        try (Connection ignored = Databases.fromUrl(url, user, password).getConnection()) {
            // reachable
        } catch (SQLException e) {
            throw new EpidemicException("cannot connect to " + Databases.redact(url) + ": " + reason(e), e);
        }
    }

    /** The network's own words ("Connection refused") when the network failed, else the server's. */
    private static String reason(SQLException e) {
        for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
            if (cause instanceof UnknownHostException) {
                return "unknown host " + cause.getMessage();
            }
            if (cause instanceof IOException && cause.getMessage() != null) {
                return EpidemicCommand.firstLine(cause.getMessage());
            }
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : EpidemicCommand.firstLine(e.getMessage());
    }
}
