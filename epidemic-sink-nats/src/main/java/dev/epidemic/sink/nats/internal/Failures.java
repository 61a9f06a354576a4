package dev.epidemic.sink.nats.internal;

import io.nats.client.AuthenticationException;
import io.nats.client.JetStreamApiException;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * Sorts what the NATS client throws into {@link Refused} (for good) and {@link Unavailable} (for now).
 * The client wraps a publish's failure in one or two {@code RuntimeException}s, so the cause chain is searched.
 */
public final class Failures {
    /**
     * JetStream API errors that pass: 10008 "JetStream system temporarily unavailable" (a restart, a leader
     * election) and 10023 "insufficient resources" (a full disk, until an operator frees space). Every other
     * API error (10054 message too large, 10060 expected stream does not match, ...) is a refusal.
     */
    private static final Set<Integer> PASSING_API_ERRORS = Set.of(10008, 10023);

    private Failures() {
    }

    /** The failure as one of the two kinds, to be thrown. */
    public static Exception classify(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof JetStreamApiException api) {
                return PASSING_API_ERRORS.contains(api.getApiErrorCode())
                        ? new Unavailable("JetStream answered: " + api.getMessage(), api)
                        : new Refused("JetStream refused it: " + api.getMessage());
            }
            if (t instanceof AuthenticationException) {
                return new Refused("not authorised: " + t.getMessage());
            }
            if (t instanceof IOException && t.getMessage() != null && t.getMessage().contains("503")) {
                // No responders: nothing listens on the subject, so no stream takes it. The server answers at
                // once, and it stays so until someone creates a stream: a refusal, not a wait.
                return new Refused("no stream takes the subject (503 no responders)");
            }
            if (t instanceof IllegalArgumentException) {
                return new Refused(t.getMessage()); // the client's own check, e.g. larger than the server's max_payload
            }
        }
        Throwable root = failure instanceof ExecutionException || failure instanceof CompletionException
                ? (failure.getCause() == null ? failure : failure.getCause()) : failure;
        return new Unavailable(describe(root), failure);
    }

    private static String describe(Throwable t) {
        if (t instanceof TimeoutException) {
            return "no acknowledgement in time";
        }
        if (t instanceof CancellationException) {
            return "the request was dropped (connection lost)";
        }
        while (t.getCause() != null && t.getMessage() != null && t.getMessage().equals(String.valueOf(t.getCause()))) {
            t = t.getCause(); // unwrap the client's RuntimeException(cause) layers
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
