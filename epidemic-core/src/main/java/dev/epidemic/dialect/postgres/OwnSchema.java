package dev.epidemic.dialect.postgres;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

import static dev.epidemic.dialect.Jdbc.execute;
import static dev.epidemic.dialect.Jdbc.inTransaction;
import static dev.epidemic.dialect.SqlText.quoteIdent;
import static dev.epidemic.dialect.SqlText.quoteLiteral;

/** Epidemic's own schema in a PostgreSQL database: installed and migrated in order, one version at a time. */
final class OwnSchema {
    private static final Logger log = LoggerFactory.getLogger(OwnSchema.class);

    /** Migrations of Epidemic's own schema, applied in order; the index + 1 is the version. */
    private static final List<String> MIGRATIONS = List.of("V1__change_log.sql", "V2__dead_letter.sql", "V3__follow_schema_changes.sql",
            "V4__backfill.sql", "V5__ticks.sql", "V6__row_filters.sql", "V7__lean_capture.sql");
    static final int CURRENT_VERSION = MIGRATIONS.size();
    /** The version that made capture follow schema changes (V3__follow_schema_changes.sql). */
    static final int FOLLOWS_SCHEMA_CHANGES = 3;
    /** The version that brought row filters (V6__row_filters.sql): their tables, and the log's filter_mask. */
    static final int ROW_FILTERS = 6;

    private final String schema;
    private final String s; // the schema, quoted

    OwnSchema(String schema) {
        this.schema = schema;
        this.s = quoteIdent(schema);
    }

    void install(Connection c) throws SQLException {
        inTransaction(c, () -> installInTransaction(c));
    }

    void installInTransaction(Connection c) throws SQLException {
        if (installedVersion(c) == CURRENT_VERSION) {
            return;
        }
        try (PreparedStatement lock = c.prepareStatement("SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext(?))")) {
            lock.setString(1, "epidemic install " + schema);
            lock.execute();
        }
        try (Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS " + s);
            st.execute("CREATE TABLE IF NOT EXISTS " + s + ".schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
        }
        int version = installedVersion(c);
        for (int v = version + 1; v <= MIGRATIONS.size(); v++) {
            try (Statement st = c.createStatement()) {
                st.execute(resource(MIGRATIONS.get(v - 1)).replace("${schema_literal}", quoteLiteral(schema)).replace("${schema}", s));
                st.execute("INSERT INTO " + s + ".schema_version (version) VALUES (" + v + ")");
            }
            log.info("Installed Epidemic schema {} version {}", schema, v);
        }
    }

    int installedVersion(Connection c) throws SQLException {
        if (!exists(c, s + ".schema_version")) {
            return 0;
        }
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT coalesce(max(version), 0) FROM " + s + ".schema_version")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static boolean exists(Connection c, String qualifiedName) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.to_regclass(?) IS NOT NULL")) {
            ps.setString(1, qualifiedName);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    boolean installed(Connection c) throws SQLException {
        return exists(c, s + ".schema_version");
    }

    private static String resource(String name) {
        try (InputStream in = OwnSchema.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read resource " + name, e);
        }
    }

}
