package dev.epidemic.engine;

import dev.epidemic.api.EpidemicException;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.dialect.Dialect;
import dev.epidemic.dialect.mariadb.MariaDbDialect;
import dev.epidemic.dialect.postgres.PostgresDialect;

import javax.sql.DataSource;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Properties;
import java.util.logging.Logger;

/** Chooses the dialect for a database and makes connections from a JDBC URL. */
public final class Databases {
    private Databases() {
    }

    public static Dialect dialectFor(String jdbcUrl, String schema) {
        if (jdbcUrl.startsWith("jdbc:postgresql:")) {
            if (org.postgresql.Driver.parseURL(jdbcUrl, null) == null) {
                throw new InvalidInputException("malformed JDBC URL " + redact(jdbcUrl)
                        + "; expected jdbc:postgresql://HOST[:PORT]/DATABASE[?PARAMETER=VALUE&...]");
            }
            return new PostgresDialect(schema);
        }
        if (isMariaDb(jdbcUrl)) {
            org.mariadb.jdbc.Configuration configuration;
            try {
                configuration = org.mariadb.jdbc.Configuration.parse(mariaDbUrl(jdbcUrl));
            } catch (SQLException e) {
                throw new InvalidInputException("malformed JDBC URL " + redact(jdbcUrl) + " (" + redact(String.valueOf(e.getMessage()))
                        + "); expected jdbc:mariadb://HOST[:PORT]/DATABASE[?PARAMETER=VALUE&...]");
            }
            return mariaDb(jdbcUrl, configuration == null ? null : configuration.database(), schema);
        }
        throw new InvalidInputException("unsupported JDBC URL " + redact(jdbcUrl)
                + "; expected jdbc:postgresql://HOST[:PORT]/DATABASE or jdbc:mariadb://HOST[:PORT]/DATABASE (or jdbc:mysql:)");
    }

    public static Dialect dialectFor(DataSource dataSource, String schema) {
        try (Connection c = dataSource.getConnection()) {
            String url = c.getMetaData().getURL();
            if (isMariaDb(url)) {
                // The connection's own database: a data source may set it apart from its URL.
                try (java.sql.Statement st = c.createStatement(); java.sql.ResultSet rs = st.executeQuery("SELECT DATABASE()")) {
                    rs.next();
                    return mariaDb(url, rs.getString(1), schema);
                }
            }
            return dialectFor(url, schema);
        } catch (SQLException e) {
            throw new EpidemicException("cannot connect to the database: " + e.getMessage(), e);
        }
    }

    private static boolean isMariaDb(String jdbcUrl) {
        return jdbcUrl.startsWith("jdbc:mariadb:") || jdbcUrl.startsWith("jdbc:mysql:");
    }

    /** One driver for both: MariaDB Connector/J speaks MySQL's protocol. */
    private static String mariaDbUrl(String jdbcUrl) {
        return jdbcUrl.startsWith("jdbc:mysql:") ? "jdbc:mariadb:" + jdbcUrl.substring("jdbc:mysql:".length()) : jdbcUrl;
    }

    /** Epidemic's tables go into the application's database, so a URL must name one. */
    private static Dialect mariaDb(String jdbcUrl, String database, String schema) {
        if (database == null || database.isEmpty()) {
            throw new InvalidInputException("the MariaDB URL names no database: " + redact(jdbcUrl)
                    + "; end it in /DATABASE, the database whose tables Epidemic captures and keeps its log in");
        }
        return new MariaDbDialect(database, schema);
    }

    /** The URL with any password parameter masked, for messages and logs. */
    public static String redact(String jdbcUrl) {
        return jdbcUrl.replaceAll("(?i)(password=)[^&;]*", "$1***").replaceAll("//([^/@:]+):[^/@]*@", "//$1:***@");
    }

    /**
     * A data source that opens a new connection per call. Connections get TCP keepalive and a connect
     * timeout, so a dead network is noticed instead of waited on forever.
     */
    public static DataSource fromUrl(String jdbcUrl, String user, String password) {
        Properties properties = new Properties();
        if (user != null) {
            properties.setProperty("user", user);
        }
        if (password != null) {
            properties.setProperty("password", password);
        }
        if (jdbcUrl.startsWith("jdbc:postgresql:")) {
            properties.putIfAbsent("tcpKeepAlive", "true");
            properties.putIfAbsent("connectTimeout", "10");
            properties.putIfAbsent("ApplicationName", "epidemic");
        }
        String url = mariaDbUrl(jdbcUrl);
        if (url.startsWith("jdbc:mariadb:")) {
            properties.putIfAbsent("tcpKeepAlive", "true");
            properties.putIfAbsent("connectTimeout", "10000");
        }
        return new UrlDataSource(url, properties);
    }

    private record UrlDataSource(String url, Properties properties) implements DataSource {
        @Override
        public Connection getConnection() throws SQLException {
            return DriverManager.getConnection(url, properties);
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            Properties p = new Properties();
            p.putAll(properties);
            p.setProperty("user", username);
            p.setProperty("password", password);
            return DriverManager.getConnection(url, p);
        }

        @Override
        public String toString() {
            return "DataSource[" + redact(url) + "]";
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {
        }

        @Override
        public void setLoginTimeout(int seconds) {
        }

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() throws SQLFeatureNotSupportedException {
            throw new SQLFeatureNotSupportedException();
        }

        @Override
        public <T> T unwrap(Class<T> type) throws SQLException {
            throw new SQLException("not a wrapper");
        }

        @Override
        public boolean isWrapperFor(Class<?> type) {
            return false;
        }
    }
}
