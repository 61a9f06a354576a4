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
import java.util.stream.Collectors;

/**
 * The sink's one connection to NATS, made at the first publish (so that a server that is down when the
 * daemon starts is waited for like one that goes away later) and then kept: the client reconnects by
 * itself, without limit. Connection events and server errors are logged through SLF4J, never with
 * credentials.
 */
public final class NatsLink implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NatsLink.class);

    private final Options options;
    private final String address;
    private Connection connection;
    private JetStream jetStream;
    private JetStreamManagement management;
    private boolean closed;

    /**
     * @param builder the client options with servers and credentials; the listeners and reconnection are set here
     * @param servers the server URLs, shown (without credentials) in log lines and messages
     */
    public NatsLink(Options.Builder builder, List<String> servers) {
        this.address = servers.stream().map(NatsLink::shown).collect(Collectors.joining(","));
        this.options = builder
                .connectionName("epidemic")
                .maxReconnects(-1)
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

    @Override
    public void close() {
        Connection open;
        synchronized (this) {
            closed = true;
            open = connection;
            connection = null;
        }
        if (open != null) {
            try {
                open.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void event(Connection connection, ConnectionListener.Events event) {
        switch (event) {
            case DISCONNECTED -> log.warn("NATS sink lost its connection to {}; reconnecting", address);
            case RECONNECTED -> log.info("NATS sink reconnected to {}", shown(connection.getConnectedUrl()));
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
        }

        @Override
        public void exceptionOccurred(Connection connection, Exception exception) {
            log.warn("NATS client error with {}: {}", address, exception.toString());
        }
    }
}
