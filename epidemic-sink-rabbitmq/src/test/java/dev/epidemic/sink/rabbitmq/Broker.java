package dev.epidemic.sink.rabbitmq;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeoutException;

import static org.awaitility.Awaitility.await;

/**
 * The local RabbitMQ (127.0.0.1:5672, guest) as a test sees it: exchanges and queues with names unique to
 * the run, read back with basic.get, and deleted by {@link #close()}.
 */
public final class Broker implements AutoCloseable {
    public static final String URI = "amqp://guest:guest@127.0.0.1:5672/%2F";

    /** One message as it arrived. */
    public record Received(String routingKey, String body, String messageId, String contentType, Integer deliveryMode,
                           Map<String, String> headers) {
    }

    private final Connection connection;
    private final Channel channel;
    private final List<String> exchanges = new ArrayList<>();
    private final List<String> queues = new ArrayList<>();
    public final String suffix = UUID.randomUUID().toString().substring(0, 8);

    public Broker() throws IOException, TimeoutException {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost("127.0.0.1");
        connection = factory.newConnection("epidemic-test");
        channel = connection.createChannel();
    }

    /** A topic exchange named {@code name}-SUFFIX. */
    public String topicExchange(String name) throws IOException {
        String exchange = name + "-" + suffix;
        channel.exchangeDeclare(exchange, BuiltinExchangeType.TOPIC, false, true, null);
        exchanges.add(exchange);
        return exchange;
    }

    /** Remembers an exchange that the code under test declares, so that it is deleted too. */
    public String willDeclare(String name) {
        String exchange = name + "-" + suffix;
        exchanges.add(exchange);
        return exchange;
    }

    /** A queue bound to {@code exchange} with {@code bindingKey}. */
    public String queue(String exchange, String bindingKey) throws IOException {
        String queue = channel.queueDeclare("epidemic-test-" + UUID.randomUUID(), false, false, false, null).getQueue();
        queues.add(queue);
        channel.queueBind(queue, exchange, bindingKey);
        return queue;
    }

    /** Every message in the queue now, in order, taken off it. */
    public List<Received> take(String queue) throws IOException {
        List<Received> received = new ArrayList<>();
        for (GetResponse r = channel.basicGet(queue, true); r != null; r = channel.basicGet(queue, true)) {
            Map<String, String> headers = new java.util.LinkedHashMap<>();
            if (r.getProps().getHeaders() != null) {
                r.getProps().getHeaders().forEach((k, v) -> headers.put(k, String.valueOf(v)));
            }
            received.add(new Received(r.getEnvelope().getRoutingKey(), new String(r.getBody(), StandardCharsets.UTF_8),
                    r.getProps().getMessageId(), r.getProps().getContentType(), r.getProps().getDeliveryMode(), headers));
        }
        return received;
    }

    /** Takes messages from the queue until there are at least {@code count}. */
    public List<Received> take(String queue, int count, Duration timeout) {
        List<Received> all = new ArrayList<>();
        await().atMost(timeout).pollInterval(Duration.ofMillis(50)).until(() -> {
            all.addAll(take(queue));
            return all.size() >= count;
        });
        return all;
    }

    @Override
    public void close() throws IOException, TimeoutException {
        for (String queue : queues) {
            channel.queueDelete(queue);
        }
        for (String exchange : exchanges) {
            channel.exchangeDelete(exchange);
        }
        connection.close();
    }
}
