package dev.epidemic.sink.nats.internal;

/**
 * NATS refused a message for good (no stream for its subject, too large, a stream that does not exist or
 * does not take the subject, not authorised): sending it again cannot help.
 */
public final class Refused extends Exception {
    public Refused(String reason) {
        super(reason);
    }
}
