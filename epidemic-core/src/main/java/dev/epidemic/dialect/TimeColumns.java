package dev.epidemic.dialect;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;

/**
 * How one database keeps the times of Epidemic's log and dead letters ({@code at}, {@code first_failure},
 * {@code last_failure}): the seam of the shared code that reads and writes them.
 */
public interface TimeColumns {

    void set(PreparedStatement ps, int index, Instant time) throws SQLException;

    /** The time in column {@code index}, or null when it is SQL NULL. */
    Instant get(ResultSet rs, int index) throws SQLException;

    /** The present, as an SQL expression of the same type. */
    String now();
}
