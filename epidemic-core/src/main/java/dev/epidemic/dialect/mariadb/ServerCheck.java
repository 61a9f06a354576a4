package dev.epidemic.dialect.mariadb;

import dev.epidemic.api.EpidemicException;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Refuses servers the dialect cannot serve, with one line that says why, before anything is installed.
 * MySQL speaks the same protocol (a {@code jdbc:mysql:} URL reaches it) but has no system-versioned
 * tables, which the log needs to learn each change's transaction; it is told apart by its version string,
 * which lacks MariaDB's {@code -MariaDB} suffix.
 */
final class ServerCheck {
    private ServerCheck() {
    }

    static void requireMariaDb(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT VERSION()")) {
            rs.next();
            String problem = problem(rs.getString(1));
            if (problem != null) {
                throw new EpidemicException(problem);
            }
        }
    }

    /** Why a server of this version cannot be used, or null when it can. */
    static String problem(String version) {
        if (version == null || !version.toLowerCase(java.util.Locale.ROOT).contains("mariadb")) {
            return "MySQL " + version + " is not supported yet: Epidemic's log on MySQL-compatible servers is a system-versioned table"
                    + " (WITH SYSTEM VERSIONING), which only MariaDB has; use MariaDB 10.6 or later";
        }
        // Old clients needed a 5.5.5- prefix to accept a version 10 server; some proxies still send it.
        String bare = version.startsWith("5.5.5-") ? version.substring("5.5.5-".length()) : version;
        String[] parts = bare.split("[.-]");
        try {
            int major = Integer.parseInt(parts[0]);
            int minor = Integer.parseInt(parts[1]);
            if (major < 10 || major == 10 && minor < 6) {
                return "MariaDB " + version + " is too old: Epidemic needs MariaDB 10.6 or later (CREATE OR REPLACE TRIGGER, transaction-precise"
                        + " system versioning); upgrade the server";
            }
        } catch (RuntimeException unparsable) {
            return null; // a version string of an unknown shape: let the statements themselves decide
        }
        return null;
    }
}
