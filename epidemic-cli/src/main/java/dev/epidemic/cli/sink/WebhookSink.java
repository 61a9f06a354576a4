package dev.epidemic.cli.sink;

import dev.epidemic.api.BatchHandler;
import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.RejectedChangeException;
import dev.epidemic.format.ChangeFormat;
import dev.epidemic.format.Message;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * POSTs changes to an HTTP endpoint as JSON, in the configured format: one change per request (the object
 * {@code epidemic tail --format} prints) when {@code batch} is 1, else a JSON array of up to {@code batch} changes.
 *
 * <p>Each request carries the format's {@code Content-Type} ({@code application/json}; for CloudEvents
 * {@code application/cloudevents+json}, or {@code application/cloudevents-batch+json} for an array), {@code Idempotency-Key} (the change
 * id; for an array, {@code FIRST-LAST}, the ids of its first and last change) and, with a secret,
 * {@code X-Epidemic-Signature} (see {@link Signature}). A 2xx answer delivers the change. Network
 * errors, timeouts, 408, 429 and 5xx throw an IOException, which the engine retries with backoff;
 * any other answer throws {@link RejectedChangeException}, which dead-letters it without retrying.
 */
public final class WebhookSink implements ChangeHandler, BatchHandler {
    private static final int BODY_IN_MESSAGE = 200;

    private final URI url;
    private final String secret;
    private final Duration timeout;
    private final int batch;
    private final Map<String, String> headers;
    private final ChangeFormat format;
    private final HttpClient client;

    /**
     * @param secret  null to send no signature
     * @param headers sent with every request; they cannot replace the headers above
     */
    public WebhookSink(URI url, String secret, Duration timeout, int batch, Map<String, String> headers, ChangeFormat format) {
        this.url = url;
        this.secret = secret;
        this.timeout = timeout;
        this.batch = batch;
        this.headers = Map.copyOf(headers);
        this.format = format;
        // Over plain http the JDK client would ask every new connection to upgrade to HTTP/2 (h2c), which
        // webhook receivers rarely speak; HTTP/1.1 keeps connections alive across requests instead. Over
        // https, HTTP/2 is negotiated (ALPN) when the receiver offers it.
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER);
        if ("http".equalsIgnoreCase(url.getScheme())) {
            builder.version(HttpClient.Version.HTTP_1_1);
        }
        this.client = builder.build();
    }

    /** Checks what the HTTP client would refuse (a restricted header name such as Host) before anything runs. */
    public static void checkHeader(String name, String value) {
        HttpRequest.newBuilder(URI.create("http://localhost/")).setHeader(name, value);
    }

    @Override
    public void onInsert(Change change) throws Exception {
        post(List.of(change));
    }

    @Override
    public void onUpdate(Change change) throws Exception {
        post(List.of(change));
    }

    @Override
    public void onDelete(Change change) throws Exception {
        post(List.of(change));
    }

    @Override
    public void onTruncate(Change change) throws Exception {
        post(List.of(change));
    }

    /** A batch from the engine, sent in requests of at most {@code batch} changes each, in order. */
    @Override
    public void handle(List<Change> changes) throws Exception {
        for (int from = 0; from < changes.size(); from += batch) {
            post(changes.subList(from, Math.min(changes.size(), from + batch)));
        }
    }

    private void post(List<Change> changes) throws IOException, InterruptedException, RejectedChangeException {
        String json;
        String contentType;
        if (batch == 1) {
            Message message = format.format(changes.get(0));
            json = message.value();
            contentType = message.contentType();
        } else {
            json = changes.stream().map(format::value).collect(Collectors.joining(",", "[", "]"));
            contentType = format.batchContentType();
        }
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        long first = changes.get(0).id();
        long last = changes.get(changes.size() - 1).id();
        HttpRequest.Builder request = HttpRequest.newBuilder(url).timeout(timeout).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach(request::setHeader);
        request.setHeader("Content-Type", contentType);
        request.setHeader("Idempotency-Key", batch == 1 ? Long.toString(first) : first + "-" + last);
        if (secret != null) {
            request.setHeader(Signature.HEADER, Signature.of(body, secret));
        }
        HttpResponse<String> response;
        try {
            response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            String reason = e.getMessage() != null ? e.getClass().getSimpleName() + ": " + e.getMessage()
                    : e instanceof java.net.ConnectException ? "cannot connect" : e.getClass().getSimpleName();
            throw new IOException("webhook " + shown(url) + " failed: " + reason, e);
        }
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
            return;
        }
        String answer = "webhook " + shown(url) + " answered " + status + excerpt(response.body());
        if (status >= 400 && status < 500 && status != 408 && status != 429) {
            throw new RejectedChangeException(answer);
        }
        throw new IOException(answer);
    }

    /** The URL without its query and user info, which may carry a token, for messages and logs. */
    public static String shown(URI url) {
        String port = url.getPort() < 0 ? "" : ":" + url.getPort();
        return url.getScheme() + "://" + url.getHost() + port + (url.getRawPath() == null ? "" : url.getRawPath());
    }

    private static String excerpt(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        String line = body.strip().lines().findFirst().orElse("");
        return ": " + (line.length() > BODY_IN_MESSAGE ? line.substring(0, BODY_IN_MESSAGE) + "..." : line);
    }
}
