package dev.epidemic.sink.nats.internal;

/**
 * NATS could not take or acknowledge a message for now (not connected, restarting, no acknowledgement in
 * time): the same message is sent again once the server is back. The reason says what the sink waits for.
 */
public final class Unavailable extends Exception {
    public Unavailable(String reason, Throwable cause) {
        super(reason, cause);
    }
}
