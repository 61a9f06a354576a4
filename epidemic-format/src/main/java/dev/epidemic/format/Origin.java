package dev.epidemic.format;

import dev.epidemic.api.EpidemicException;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.Supplier;

/**
 * The database changes come from, as Debezium's {@code source} and a CloudEvent's {@code source} name it.
 *
 * @param connector {@code postgresql}, or {@code mysql} for MariaDB and MySQL (Debezium's connector names)
 * @param database  the database's name
 */
record Origin(String connector, String database) {

    /** The origin of the changes of this database, read from the connection's metadata once, when first asked. */
    static Supplier<Origin> lazy(DataSource dataSource) {
        return new Supplier<>() {
            private volatile Origin origin;

            @Override
            public Origin get() {
                Origin known = origin;
                if (known == null) {
                    known = read(dataSource);
                    origin = known;
                }
                return known;
            }
        };
    }

    private static Origin read(DataSource dataSource) {
        try (Connection connection = dataSource.getConnection()) {
            String product = connection.getMetaData().getDatabaseProductName();
            String connector = product != null && product.toLowerCase(java.util.Locale.ROOT).contains("postgres") ? "postgresql" : "mysql";
            return new Origin(connector, connection.getCatalog());
        } catch (SQLException e) {
            throw new EpidemicException("cannot read the database's name for the message format: " + e.getMessage(), e);
        }
    }
}
