package dev.epidemic.sink.rabbitmq;

/**
 * RabbitMQ refused changes for a reason that waiting will not cure: no such exchange, a message no queue
 * takes (with {@code mandatory}), a message too large, access refused, bad credentials. The message names
 * the changes and the broker's reason; the table's {@code on-failure} policy decides what follows (retries,
 * then a dead letter or a stop).
 */
public final class RefusedByBrokerException extends Exception {
    RefusedByBrokerException(String message, Throwable cause) {
        super(message, cause);
    }
}
