package dev.epidemic.sink.nats;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Streams of one test on a real NATS server (the machine's at 127.0.0.1:4222 unless told otherwise), each
 * with a random name and subject prefix, deleted on close; and what a stream holds, read back in order.
 */
final class JetStreams implements AutoCloseable {
    static final String LOCAL = "nats://127.0.0.1:4222";

    private final Connection connection;
    private final JetStreamManagement management;
    private final List<String> created = new ArrayList<>();

    JetStreams(String url) throws IOException, InterruptedException {
        connection = Nats.connect(new Options.Builder().server(url).build());
        management = connection.jetStreamManagement();
    }

    /** A random name in upper case for a stream, and the same in lower case as its subject prefix. */
    static String uniqueName() {
        return "T" + UUID.randomUUID().toString().replace("-", "").substring(0, 12).toUpperCase();
    }

    /** A file stream over {@code prefix.>}; {@code maxMessageSize} -1 for no limit. */
    String create(String name, String prefix, long maxMessageSize) throws IOException, JetStreamApiException {
        management.addStream(StreamConfiguration.builder().name(name).subjects(prefix + ".>").storageType(StorageType.File)
                .maximumMessageSize((int) maxMessageSize).build());
        created.add(name);
        return name;
    }

    /** Deletes a stream the sink created, at the end. */
    void deleteAtEnd(String name) {
        created.add(name);
    }

    List<MessageInfo> messages(String stream) throws IOException, JetStreamApiException {
        long last = management.getStreamInfo(stream).getStreamState().getLastSequence();
        List<MessageInfo> messages = new ArrayList<>();
        for (long seq = 1; seq <= last; seq++) {
            messages.add(management.getMessage(stream, seq));
        }
        return messages;
    }

    long count(String stream) throws IOException, JetStreamApiException {
        return management.getStreamInfo(stream).getStreamState().getMsgCount();
    }

    JetStreamManagement management() {
        return management;
    }

    @Override
    public void close() throws InterruptedException {
        for (String name : created) {
            try {
                management.deleteStream(name);
            } catch (IOException | JetStreamApiException e) {
                // gone already, or the server of a restart test is down: nothing left to delete
            }
        }
        connection.close();
    }
}
