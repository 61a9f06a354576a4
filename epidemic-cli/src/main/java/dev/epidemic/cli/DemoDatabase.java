package dev.epidemic.cli;

import dev.epidemic.api.EpidemicException;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.engine.Databases;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The database the demo runs on: an embedded PostgreSQL that it starts and stops, or the user's own
 * (--url). In the user's database it works only in two schemas of its own, made when it starts and
 * dropped when it ends, so the database is left as it was.
 */
final class DemoDatabase implements AutoCloseable {
    /** Holds the demo's mail_users table. */
    static final String TABLE_SCHEMA = "epidemic_demo";
    /** Holds Epidemic's change log for the demo, apart from any real installation in the same database. */
    static final String LOG_SCHEMA = "epidemic_demo_log";
    private static final String MARK = "made by epidemic demo, dropped when it ends"; // no quotes: it goes into SQL as a literal

    private final Database database;
    private final EmbeddedPostgres server;

    private DemoDatabase(Database database, EmbeddedPostgres server) {
        this.database = database;
        this.server = server;
    }

    /** Starts a throwaway PostgreSQL cluster; its data directory is deleted when it is closed. */
    static DemoDatabase embedded() {
        try {
            EmbeddedPostgres server = EmbeddedPostgres.builder().start();
            return new DemoDatabase(new Database(server.getJdbcUrl("postgres", "postgres"), null, null, LOG_SCHEMA), server);
        } catch (IOException | RuntimeException e) {
            throw new EpidemicException("cannot start an embedded PostgreSQL: " + EpidemicCommand.firstLine(e.getMessage())
                    + "; pass --url to run the demo on a PostgreSQL of yours", e);
        }
    }

    /** The user's database, after checking it can be reached. */
    static DemoDatabase given(Database database) {
        if (!database.url().startsWith("jdbc:postgresql:")) {
            // Its setup (schemas with comments, search_path) is PostgreSQL's; so is its embedded server.
            throw new InvalidInputException("the demo runs on PostgreSQL: give a jdbc:postgresql:// URL, or none for an embedded server");
        }
        database.checkReachable();
        return new DemoDatabase(new Database(database.url(), database.user(), database.password(), LOG_SCHEMA), null);
    }

    Database database() {
        return database;
    }

    /** What to call it in the output: the server's version, and where it runs. */
    String describe() {
        String version = query("SHOW server_version");
        return (server != null ? "embedded PostgreSQL " + version + " on port " + server.getPort()
                : "PostgreSQL " + version + " at " + Databases.redact(database.url()));
    }

    /**
     * Makes the demo's schemas and runs {@code statements} with the table schema first on the search
     * path. Schemas of these names that the demo did not make are never touched: that is an error.
     */
    void createSchemas(List<String> statements) {
        run(c -> {
            for (String schema : List.of(TABLE_SCHEMA, LOG_SCHEMA)) {
                String comment = comment(c, schema);
                if (comment != null && !comment.equals(MARK)) {
                    throw new InvalidInputException("schema " + schema + " already exists in this database and was not made by the demo;"
                            + " run the demo on another database");
                }
            }
            try (Statement st = c.createStatement()) {
                for (String schema : List.of(TABLE_SCHEMA, LOG_SCHEMA)) {
                    st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE"); // left by an interrupted demo: marked as ours
                    st.execute("CREATE SCHEMA " + schema);
                    st.execute("COMMENT ON SCHEMA " + schema + " IS '" + MARK + "'");
                }
                st.execute("SET LOCAL search_path = " + TABLE_SCHEMA);
                for (String statement : statements) {
                    st.execute(statement);
                }
            }
        });
    }

    /** Runs {@code sql} in the table schema, in one transaction. */
    void execute(List<String> sql) {
        run(c -> {
            try (Statement st = c.createStatement()) {
                st.execute("SET LOCAL search_path = " + TABLE_SCHEMA);
                for (String statement : sql) {
                    st.execute(statement);
                }
            }
        });
    }

    /**
     * Drops the demo's schemas, then stops the embedded server if there is one. Only schemas bearing the
     * demo's mark are dropped: when the demo refused to start because a schema of the name was someone
     * else's, that schema stays.
     */
    @Override
    public void close() {
        try {
            run(c -> {
                for (String schema : List.of(TABLE_SCHEMA, LOG_SCHEMA)) {
                    if (MARK.equals(comment(c, schema))) {
                        try (Statement st = c.createStatement()) {
                            st.execute("DROP SCHEMA " + schema + " CASCADE");
                        }
                    }
                }
            });
        } finally {
            if (server != null) {
                try {
                    server.close();
                } catch (IOException e) {
                    throw new EpidemicException("cannot stop the embedded PostgreSQL: " + e.getMessage(), e);
                }
            }
        }
    }

    private static String comment(Connection c, String schema) throws SQLException {
        try (PreparedStatement st = c.prepareStatement(
                "SELECT coalesce(obj_description(oid, 'pg_namespace'), '') FROM pg_namespace WHERE nspname = ?")) {
            st.setString(1, schema);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private String query(String sql) {
        String[] result = new String[1];
        run(c -> {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
                rs.next();
                result[0] = rs.getString(1);
            }
        });
        return result[0];
    }

    private interface Work {
        void run(Connection connection) throws SQLException;
    }

    /** One transaction on a connection of its own. */
    private void run(Work work) {
        try (Connection c = Databases.fromUrl(database.url(), database.user(), database.password()).getConnection()) {
            c.setAutoCommit(false);
            try {
                work.run(c);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new EpidemicException(EpidemicCommand.firstLine(e.getMessage()), e);
        }
    }
}
