package dev.epidemic.sink.nats.internal;

import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.ErrorListener;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.Options;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The sink's connection to NATS, made at the first publish (so that a server that is down when the daemon
 * starts is waited for like one that goes away later) and kept until it fails.
 *
 * <p>The client's own reconnection is off on purpose: after a reconnect it would send the messages still in
 * its queue, while a message before them was lost with the old socket, and the sink's retry of that one
 * would then land after them, breaking a row's order. Instead a connection that fails is closed with
 * whatever it still queued ({@link #reset()}), and the sink connects anew and publishes again from its first
 * unacknowledged change. Connection events and server errors are logged through SLF4J, never with credentials.
 */
public final class NatsLink implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NatsLink.class);
    private static final Pattern PUBLISH_DENIED = Pattern.compile("Permissions Violation for Publish to \"([^\"]+)\"", Pattern.CASE_INSENSITIVE);

    private final Options options;
    private final String address;
    private volatile Connection connection; // read without the lock by the client's event thread
    private JetStream jetStream;
    private JetStreamManagement management;
    private boolean closed;
    /** Subjects the server refused this connection to publish to: it drops such a message without an answer. */
    private final Set<String> denied = ConcurrentHashMap.newKeySet();

    /**
     * @param builder the client options with servers and credentials; the listeners and reconnection are set here
     * @param servers the server URLs, shown (without credentials) in log lines and messages
     */
    public NatsLink(Options.Builder builder, List<String> servers) {
        this.address = servers.stream().map(NatsLink::shown).collect(Collectors.joining(","));
        this.options = builder
                .connectionName("epidemic")
                .noReconnect()
                .connectionListener(this::event)
                .errorListener(new LoggingErrorListener())
                .build();
    }

    /** The servers as log lines show them. */
    public String address() {
        return address;
    }

    /** The open connection, connecting when there is none yet. */
    public synchronized Connection connection() throws IOException, InterruptedException {
        if (closed) {
            throw new InterruptedException("the NATS sink was closed");
        }
        if (connection == null || connection.getStatus() == Connection.Status.CLOSED) {
            denied.clear(); // permissions may have changed since the last connection
            connection = Nats.connect(options);
            jetStream = connection.jetStream();
            management = connection.jetStreamManagement();
            log.info("NATS sink connected to {}", shown(connection.getConnectedUrl()));
        }
        return connection;
    }

    public synchronized JetStream jetStream() throws IOException, InterruptedException {
        connection();
        return jetStream;
    }

    public synchronized JetStreamManagement management() throws IOException, InterruptedException {
        connection();
        return management;
    }

    /** Whether the server reported a permissions violation for publishing to {@code subject} on this connection. */
    public boolean denied(String subject) {
        return denied.contains(subject);
    }

    /**
     * Closes the connection, dropping the messages it still queued, so that none of them can reach the
     * server after those that the sink publishes next; the next {@link #connection()} connects anew.
     */
    public void reset() {
        Connection failed;
        synchronized (this) {
            failed = connection;
            connection = null;
        }
        closeQuietly(failed);
    }

    private static void closeQuietly(Connection connection) {
        if (connection == null) {
            return;
        }
        try {
            connection.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        Connection open;
        synchronized (this) {
            closed = true;
            open = connection;
            connection = null;
        }
        closeQuietly(open);
    }

    private void event(Connection connection, ConnectionListener.Events event) {
        if (connection != this.connection) {
            return; // a connection that failed to open (the sink says why) or that the sink closed itself
        }
        switch (event) {
            case DISCONNECTED -> log.warn("NATS sink lost its connection to {}", address);
            case LAME_DUCK -> log.warn("NATS server {} is shutting down (lame duck mode)", shown(connection.getConnectedUrl()));
            default -> log.debug("NATS sink connection event {} ({})", event, address);
        }
    }

    /** A server URL without user and password. */
    public static String shown(String url) {
        if (url == null) {
            return "(not connected)";
        }
        try {
            URI uri = URI.create(url.contains("://") ? url.strip() : "nats://" + url.strip());
            String port = uri.getPort() < 0 ? "" : ":" + uri.getPort();
            return uri.getScheme() + "://" + uri.getHost() + port;
        } catch (IllegalArgumentException e) {
            int at = url.lastIndexOf('@');
            return at < 0 ? url : url.substring(at + 1);
        }
    }

    /** The client's asynchronous errors (a permissions violation, say) as WARN lines instead of its own logger. */
    private final class LoggingErrorListener implements ErrorListener {
        @Override
        public void errorOccurred(Connection connection, String error) {
            log.warn("NATS server {} reported: {}", address, error);
            Matcher m = PUBLISH_DENIED.matcher(error);
            if (m.find()) {
                denied.add(m.group(1));
            }
        }

        @Override
        public void exceptionOccurred(Connection connection, Exception exception) {
            if (exception instanceof IOException) {
                // a refused or broken connection: the sink's own WARN line says what it waits for
                log.debug("NATS client error with {}: {}", address, exception.toString());
            } else {
                log.warn("NATS client error with {}: {}", address, exception.toString());
            }
        }
    }
}
