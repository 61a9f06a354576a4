package dev.epidemic.dialect.mariadb;

import dev.epidemic.dialect.TimeColumns;

import java.math.BigDecimal;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;

/**
 * Epidemic's times on MariaDB: seconds since the epoch in a {@code DECIMAL(17,6)}, as the triggers log them
 * ({@code UNIX_TIMESTAMP(SYSDATE(6))}): microseconds exact, and no time-zone conversion on the way in or out.
 */
final class EpochSeconds implements TimeColumns {
    static final EpochSeconds COLUMNS = new EpochSeconds();

    private EpochSeconds() {
    }

    @Override
    public void set(PreparedStatement ps, int index, Instant time) throws SQLException {
        ps.setBigDecimal(index, BigDecimal.valueOf(time.getEpochSecond()).add(BigDecimal.valueOf(time.getNano() / 1000, 6)));
    }

    @Override
    public Instant get(ResultSet rs, int index) throws SQLException {
        return instant(rs.getBigDecimal(index));
    }

    static Instant instant(BigDecimal epochSeconds) {
        if (epochSeconds == null) {
            return null;
        }
        long seconds = epochSeconds.longValue();
        long nanos = epochSeconds.subtract(BigDecimal.valueOf(seconds)).movePointRight(9).longValue();
        return Instant.ofEpochSecond(seconds, nanos);
    }

    @Override
    public String now() {
        return "UNIX_TIMESTAMP(NOW(6))";
    }
}
