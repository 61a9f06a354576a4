package dev.epidemic.sink.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AuthenticationFailureException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.PossibleAuthenticationFailureException;
import com.rabbitmq.client.Return;
import com.rabbitmq.client.ShutdownSignalException;
import dev.epidemic.api.Change;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.format.ChangeFormat;
import dev.epidemic.format.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URISyntaxException;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;

/**
 * One connection and one confirm-mode channel to the broker, and one attempt at publishing a batch on them;
 * used by one thread at a time.
 * Any failure drops both, so the next attempt starts on a fresh connection; the outcome says whether the
 * failure was transient (wait and publish again) or a refusal (give up on the batch).
 */
final class Publisher {
    private static final Logger log = LoggerFactory.getLogger(Publisher.class);
    private static final int ABORT_MILLIS = 1_000;
    /** Reply codes of a channel closed by the broker for a reason a retry cannot cure. */
    private static final List<Integer> REFUSING_CHANNEL_CODES = List.of(AMQP.ACCESS_REFUSED, AMQP.NOT_FOUND, AMQP.PRECONDITION_FAILED,
            AMQP.RESOURCE_LOCKED, AMQP.NOT_ALLOWED);

    /** Either a transient failure's reason, naming what the sink waits for, or a refusal to throw. */
    record Outcome(String transientReason, RefusedByBrokerException refusal) {
    }

    private final RabbitMqSink.Settings settings;
    private final ChangeFormat format;
    private final ConnectionFactory factory;
    private final RoutingKeyTemplate routingKeys;
    private final String exchange;
    private final boolean mandatory;
    private final int deliveryMode;
    private final long confirmMillis;
    private final String address;
    /** Messages the broker returned as unroutable, by message id; basic.return comes before the batch's confirms. */
    private final Map<String, Return> returned = new ConcurrentHashMap<>();
    /** Volatile for {@link #close()}, which another thread may call while a batch waits. */
    private volatile Connection connection;
    private volatile boolean closed;
    private Channel channel;

    Publisher(RabbitMqSink.Settings settings, ChangeFormat format) {
        this.settings = settings;
        this.format = format;
        try {
            this.factory = Connections.factory(settings);
        } catch (IOException | GeneralSecurityException | URISyntaxException e) {
            throw new InvalidInputException("rabbitmq.tls: cannot set up TLS: " + e.getMessage());
        }
        this.routingKeys = RoutingKeyTemplate.parse(settings.routingKey() == null ? RoutingKeyTemplate.DEFAULT : settings.routingKey());
        this.exchange = settings.exchange();
        this.mandatory = !Boolean.FALSE.equals(settings.mandatory());
        this.deliveryMode = Boolean.FALSE.equals(settings.persistent()) ? 1 : 2;
        this.confirmMillis = SettingsCheck.confirmTimeout(settings).toMillis();
        String vhost = factory.getVirtualHost();
        this.address = factory.getHost() + ":" + factory.getPort() + ("/".equals(vhost) ? "" : " vhost " + vhost);
    }

    /** A copy with the same settings and a connection of its own, for another thread. */
    private Publisher(Publisher template) {
        this.settings = template.settings;
        this.format = template.format;
        this.factory = template.factory;
        this.routingKeys = template.routingKeys;
        this.exchange = template.exchange;
        this.mandatory = template.mandatory;
        this.deliveryMode = template.deliveryMode;
        this.confirmMillis = template.confirmMillis;
        this.address = template.address;
    }

    Publisher sibling() {
        return new Publisher(this);
    }

    /** The broker as logs name it: host, port, and the virtual host when it is not {@code /}. */
    String address() {
        return address;
    }

    /** Publishes the changes in order and waits for their confirms; null when all were confirmed. */
    Outcome publish(List<Change> changes) throws InterruptedException {
        boolean connected = channel != null && channel.isOpen();
        try {
            if (!connected) {
                open();
                connected = true;
            }
            returned.clear();
            for (Change change : changes) {
                Message message = format.format(change);
                channel.basicPublish(exchange, routingKeys.keyFor(change), mandatory, properties(change, message), message.valueBytes());
            }
            channel.waitForConfirmsOrDie(confirmMillis);
            return returned.isEmpty() ? null : new Outcome(null, unroutable(changes));
        } catch (InterruptedException e) {
            drop();
            throw e;
        } catch (TimeoutException e) {
            drop();
            return new Outcome(connected ? "no confirms within the confirm-timeout of " + confirmMillis + " ms; waiting for the broker to confirm"
                    : "no answer within the connect-timeout; waiting for the broker to accept connections", null);
        } catch (IOException | ShutdownSignalException | IllegalArgumentException e) {
            ShutdownSignalException signal = closeReason(e);
            drop();
            String refusal = refusal(e, signal);
            if (refusal != null) {
                return new Outcome(null, new RefusedByBrokerException("RabbitMQ " + address + " refused " + named(changes) + ": " + refusal, e));
            }
            return new Outcome(connected ? describe(e, signal) + "; waiting for the broker to confirm"
                    : describe(e, signal) + "; waiting for the broker to accept connections", null);
        }
    }

    private void open() throws IOException, TimeoutException {
        connection = factory.newConnection("epidemic-sink " + exchange);
        if (closed) {
            throw new IOException("the sink is closed"); // close() came while connecting: the caller gives up, the connection is dropped
        }
        connection.addBlockedListener(reason -> log.warn("RabbitMQ {}: the broker blocks publishing ({}); waiting for it to unblock", address, reason),
                () -> log.info("RabbitMQ {}: the broker unblocked publishing", address));
        channel = connection.createChannel();
        channel.addReturnListener(message -> returned.put(String.valueOf(message.getProperties().getMessageId()), message));
        if (Boolean.TRUE.equals(settings.declareExchange())) {
            String type = settings.exchangeType() == null ? "topic" : settings.exchangeType().strip().toLowerCase(Locale.ROOT);
            channel.exchangeDeclare(exchange, type, true);
        } else if (!exchange.isEmpty()) {
            channel.exchangeDeclarePassive(exchange); // a missing exchange is named now, not as a channel closed mid-batch
        }
        channel.confirmSelect();
        log.info("RabbitMQ {}: connected; publishing to exchange '{}' with publisher confirms", address, exchange);
    }

    private AMQP.BasicProperties properties(Change change, Message message) {
        Map<String, Object> headers = new LinkedHashMap<>();
        headers.put("epidemic-change-id", Long.toString(change.id()));
        headers.put("epidemic-txid", Long.toString(change.txid()));
        headers.put("epidemic-table", change.table());
        headers.put("epidemic-op", RoutingKeyTemplate.op(change));
        headers.putAll(message.headers());
        return new AMQP.BasicProperties.Builder()
                .messageId(Long.toString(change.id()))
                .contentType(message.contentType())
                .deliveryMode(deliveryMode)
                .timestamp(change.at() == null ? null : Date.from(change.at()))
                .appId("epidemic")
                .headers(headers)
                .build();
    }

    private RefusedByBrokerException unroutable(List<Change> changes) {
        List<String> named = new ArrayList<>();
        String reason = null;
        for (Change change : changes) {
            Return message = returned.get(Long.toString(change.id()));
            if (message != null) {
                named.add("change " + change.id() + " of " + change.table() + " (routing key '" + message.getRoutingKey() + "')");
                reason = message.getReplyCode() + " " + message.getReplyText();
            }
        }
        return new RefusedByBrokerException("RabbitMQ " + address + " returned " + String.join(", ", named)
                + ": no queue is bound to exchange '" + exchange + "' for it (" + reason + "; mandatory is on)", null);
    }

    /** The broker's reason why the channel or connection closed, if it closed. */
    private ShutdownSignalException closeReason(Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ShutdownSignalException signal && signal.getReason() != null) {
                return signal;
            }
        }
        if (channel != null && channel.getCloseReason() != null) {
            return channel.getCloseReason();
        }
        return connection != null ? connection.getCloseReason() : null;
    }

    /** Why waiting cannot help, or null when it can. */
    private static String refusal(Exception e, ShutdownSignalException signal) {
        if (e instanceof AuthenticationFailureException || e instanceof PossibleAuthenticationFailureException) {
            return "not authorised: " + e.getMessage();
        }
        if (e instanceof IllegalArgumentException) {
            return e.getMessage();
        }
        if (causedBy(e, SSLException.class)) {
            return "TLS failed: " + rootMessage(e); // a certificate not trusted, a plain port: configuration, not an outage
        }
        if (signal == null) {
            return null;
        }
        if (signal.getReason() instanceof AMQP.Channel.Close close && REFUSING_CHANNEL_CODES.contains(close.getReplyCode())) {
            return close.getReplyText();
        }
        if (signal.getReason() instanceof AMQP.Connection.Close close
                && (close.getReplyCode() == AMQP.NOT_ALLOWED || close.getReplyCode() == AMQP.ACCESS_REFUSED)) {
            return close.getReplyText();
        }
        return null;
    }

    private static String describe(Exception e, ShutdownSignalException signal) {
        if (signal != null && signal.getReason() instanceof AMQP.Connection.Close close) {
            return "the broker closed the connection: " + close.getReplyText();
        }
        if (signal != null && signal.getReason() instanceof AMQP.Channel.Close close) {
            return "the broker closed the channel: " + close.getReplyText();
        }
        if (causedBy(e, ConnectException.class)) {
            return "cannot connect (" + rootMessage(e) + ")";
        }
        if (e instanceof IOException && e.getMessage() != null && e.getMessage().contains("nack")) {
            return "the broker did not take the messages (nack)";
        }
        return "connection lost (" + rootMessage(e) + ")";
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getClass().getSimpleName() + ": " + root.getMessage();
    }

    private static String named(List<Change> changes) {
        Change first = changes.get(0);
        return "change " + first.id() + " of " + first.table()
                + (changes.size() == 1 ? "" : " and the " + (changes.size() - 1) + " after it, up to change " + changes.get(changes.size() - 1).id());
    }

    /** Drops the connection without waiting for a broker that may be gone. */
    private void drop() {
        Connection dropped = connection;
        connection = null;
        channel = null;
        if (dropped != null) {
            dropped.abort(ABORT_MILLIS);
        }
    }

    /**
     * Aborts the connection; safe from another thread: the batch waiting on it fails at once (and the sink,
     * being closed, gives up on it).
     */
    void close() {
        closed = true;
        Connection open = connection;
        if (open != null) {
            open.abort(ABORT_MILLIS);
        }
    }
}
