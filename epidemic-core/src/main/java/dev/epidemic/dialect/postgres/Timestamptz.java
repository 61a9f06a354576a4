package dev.epidemic.dialect.postgres;

import dev.epidemic.dialect.TimeColumns;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/** Epidemic's times on PostgreSQL: {@code timestamptz}, bound and read as {@link OffsetDateTime}. */
final class Timestamptz implements TimeColumns {
    static final Timestamptz COLUMNS = new Timestamptz();

    private Timestamptz() {
    }

    @Override
    public void set(PreparedStatement ps, int index, Instant time) throws SQLException {
        ps.setObject(index, OffsetDateTime.ofInstant(time, ZoneOffset.UTC));
    }

    @Override
    public Instant get(ResultSet rs, int index) throws SQLException {
        OffsetDateTime time = rs.getObject(index, OffsetDateTime.class);
        return time == null ? null : time.toInstant();
    }

    @Override
    public String now() {
        return "now()";
    }
}
