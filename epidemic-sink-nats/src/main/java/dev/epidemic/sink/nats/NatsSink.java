package dev.epidemic.sink.nats;

import dev.epidemic.api.BatchHandler;
import dev.epidemic.api.Change;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.api.RejectedChangeException;
import dev.epidemic.format.ChangeFormat;
import dev.epidemic.format.Message;
import dev.epidemic.sink.nats.internal.Backoff;
import dev.epidemic.config.DurationText;
import dev.epidemic.sink.nats.internal.Failures;
import dev.epidemic.sink.nats.internal.NatsLink;
import dev.epidemic.sink.nats.internal.Refused;
import dev.epidemic.sink.nats.internal.StreamBinding;
import dev.epidemic.sink.nats.internal.SubjectTemplate;
import dev.epidemic.sink.nats.internal.Unavailable;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PublishOptions;
import io.nats.client.api.PublishAck;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Publishes a table's changes to NATS JetStream, one message per change, and returns only when the stream
 * acknowledged every message of the batch: the engine stores the position after that, so a change is in
 * the stream at least once.
 *
 * <p>Each message goes to the subject the template makes of the change's schema, table and operation
 * ({@code epidemic.{schema}.{table}.{op}} by default), with the change id as its {@code Nats-Msg-Id}: a
 * change published again after a crash, within the stream's duplicate window, is acknowledged as a
 * duplicate and not stored twice. Headers: {@code epidemic-change-id}, {@code epidemic-txid},
 * {@code epidemic-table}, {@code epidemic-op}, {@code content-type} and the format's own (CloudEvents'
 * {@code ce-} attributes: cloudevents is sent in binary mode).
 *
 * <p>A batch is published asynchronously, at most {@code max-in-flight} messages unacknowledged at a time,
 * and the acknowledgements are awaited in order. When the server is away (down, restarting, connection
 * lost, no acknowledgement in time) the sink waits (100 ms doubling to 10 s, a WARN line per attempt) and
 * publishes again from the first unacknowledged change, until it succeeds or the thread is interrupted or the
 * sink closed. When NATS refuses a message for good (no stream takes the subject, too large, not authorised,
 * a configured stream missing) it throws {@link RejectedChangeException} naming the change, and the table's
 * on-failure policy decides. docs/sinks/nats.md says more.
 *
 * <pre>{@code
 * NatsSink sink = NatsSink.create(NatsSink.Settings.forUrl("nats://127.0.0.1:4222").withStream("ORDERS"), dataSource);
 * Epidemic.builder(dataSource).consumer("to-nats").handleBatches("orders", List.of(), sink, FailurePolicy.defaults())
 * }</pre>
 */
public final class NatsSink implements BatchHandler, AutoCloseable {
    /** The subject template when none is given. */
    public static final String DEFAULT_SUBJECT = "epidemic.{schema}.{table}.{op}";
    /** How long the sink waits for one acknowledgement before it counts the server as away. */
    public static final Duration DEFAULT_PUBLISH_TIMEOUT = Duration.ofSeconds(5);
    /** How many messages may await their acknowledgement at once. */
    public static final int DEFAULT_MAX_IN_FLIGHT = 512;

    private static final Logger log = LoggerFactory.getLogger(NatsSink.class);

    private final ChangeFormat format;
    private final SubjectTemplate subjects;
    private final StreamBinding binding;
    private final Duration publishTimeout;
    private final int maxInFlight;
    private final NatsLink link;
    private final CountDownLatch closed = new CountDownLatch(1);

    /**
     * The sink for these settings; it connects at its first batch.
     *
     * @param format how each change becomes a message; cloudevents is used in binary mode
     * @throws InvalidInputException the settings have a problem; the message names the key
     */
    public NatsSink(Settings settings, ChangeFormat format) {
        settings.validate();
        this.format = format.binaryMode();
        this.subjects = SubjectTemplate.of(settings.subjectOrDefault());
        this.binding = settings.stream() == null ? null
                : new StreamBinding(settings.stream().strip(), Boolean.TRUE.equals(settings.createStream()) ? subjects.wildcard() : null);
        this.publishTimeout = settings.publishTimeoutOrDefault();
        this.maxInFlight = settings.maxInFlight() == null ? DEFAULT_MAX_IN_FLIGHT : settings.maxInFlight();
        this.link = new NatsLink(settings.clientOptions(), settings.servers());
    }

    /** The sink for these settings, in the format they name, read from the database of {@code dataSource}. */
    public static NatsSink create(Settings settings, DataSource dataSource) {
        settings.validate();
        return new NatsSink(settings, ChangeFormat.named(settings.formatOrDefault(), dataSource));
    }

    @Override
    public void handle(List<Change> changes) throws Exception {
        List<Outgoing> messages = new ArrayList<>(changes.size());
        for (Change change : changes) {
            messages.add(outgoing(change));
        }
        Backoff backoff = new Backoff(closed);
        int acknowledged = 0;
        while (acknowledged < messages.size()) {
            Attempt attempt = new Attempt(messages, acknowledged);
            try {
                attempt.run();
                acknowledged = messages.size();
            } catch (Unavailable e) {
                acknowledged = attempt.acknowledged;
                link.reset(); // nothing the failed attempt queued may land after what the next one publishes
                Change waiting = messages.get(acknowledged).change();
                log.warn("NATS sink: change {} of {} not acknowledged by {}: {}; waiting {} ms for the server (attempt {})",
                        waiting.id(), waiting.table(), link.address(), e.getMessage(), backoff.nextMillis(), backoff.attempts() + 1);
                backoff.pause();
            } catch (Refused e) {
                Change refused = messages.get(attempt.acknowledged).change();
                throw new RejectedChangeException("NATS " + link.address() + " refused change " + refused.id() + " of " + refused.table()
                        + " on subject " + messages.get(attempt.acknowledged).subject() + ": " + e.getMessage());
            }
        }
        if (backoff.attempts() > 0) {
            log.info("NATS sink: {} acknowledged the batch after {} failed attempt(s)", link.address(), backoff.attempts());
        }
    }

    /** One change as it is published: the message and its options, made once per batch. */
    private record Outgoing(Change change, String subject, NatsMessage message, PublishOptions options) {
    }

    private Outgoing outgoing(Change change) {
        Message formatted = format.format(change);
        String subject = subjects.subjectOf(change);
        Headers headers = new Headers();
        headers.put("epidemic-change-id", Long.toString(change.id()));
        headers.put("epidemic-txid", Long.toString(change.txid()));
        headers.put("epidemic-table", change.table());
        headers.put("epidemic-op", change.operation().name().toLowerCase(Locale.ROOT));
        headers.put("content-type", formatted.contentType());
        formatted.headers().forEach(headers::put);
        NatsMessage message = NatsMessage.builder().subject(subject).headers(headers).data(formatted.valueBytes()).build();
        PublishOptions.Builder options = PublishOptions.builder().messageId(Long.toString(change.id()));
        if (binding != null) {
            options.expectedStream(binding.stream()); // the server refuses a subject that another stream took over
        }
        return new Outgoing(change, subject, message, options.build());
    }

    /**
     * One try at publishing the batch from its first unacknowledged message: published in order, at most
     * {@code maxInFlight} awaiting their acknowledgement, acknowledgements awaited in order.
     */
    private final class Attempt {
        private final List<Outgoing> messages;
        private int acknowledged;

        Attempt(List<Outgoing> messages, int acknowledged) {
            this.messages = messages;
            this.acknowledged = acknowledged;
        }

        void run() throws Unavailable, Refused, InterruptedException {
            JetStream jetStream = jetStream();
            ArrayDeque<CompletableFuture<PublishAck>> inFlight = new ArrayDeque<>(); // of messages acknowledged..next-1
            int next = acknowledged;
            while (acknowledged < messages.size()) {
                while (next < messages.size() && inFlight.size() < maxInFlight) {
                    Outgoing outgoing = messages.get(next);
                    if (next > acknowledged && binding != null && !binding.isBound(outgoing.subject())) {
                        break; // a new subject is checked with nothing ahead of it, so that a refusal names its change
                    }
                    checkBinding(outgoing.subject());
                    inFlight.add(publish(jetStream, outgoing));
                    next++;
                }
                await(inFlight.poll(), messages.get(acknowledged).subject());
                acknowledged++;
            }
        }

        private JetStream jetStream() throws Unavailable, Refused, InterruptedException {
            try {
                JetStream jetStream = link.jetStream();
                Connection.Status status = link.connection().getStatus();
                if (status != Connection.Status.CONNECTED) {
                    throw new Unavailable("the connection is " + status.name().toLowerCase(Locale.ROOT), null);
                }
                return jetStream;
            } catch (IOException e) {
                throw rethrown(Failures.classify(e));
            }
        }

        private void checkBinding(String subject) throws Unavailable, Refused, InterruptedException {
            if (binding == null) {
                return;
            }
            try {
                binding.check(link.management(), subject);
            } catch (IOException e) {
                throw rethrown(Failures.classify(e));
            }
        }

        private CompletableFuture<PublishAck> publish(JetStream jetStream, Outgoing outgoing) throws Unavailable, Refused {
            try {
                return jetStream.publishAsync(outgoing.message(), outgoing.options());
            } catch (RuntimeException e) {
                throw rethrown(Failures.classify(e)); // IllegalState when closed or reconnecting with a full buffer
            }
        }

        private void await(CompletableFuture<PublishAck> acknowledgement, String subject) throws Unavailable, Refused, InterruptedException {
            try {
                acknowledgement.get(publishTimeout.toNanos(), TimeUnit.NANOSECONDS);
                // A duplicate (isDuplicate()) is success too: the stream holds the change from an earlier publish.
            } catch (TimeoutException e) {
                if (link.denied(subject)) {
                    // the server dropped it and said so only in an asynchronous -ERR: it will never be answered
                    throw new Refused("not authorised to publish to " + subject + " (the server reported a permissions violation)");
                }
                throw new Unavailable("no acknowledgement within " + publishTimeout.toMillis() + " ms", e);
            } catch (ExecutionException | RuntimeException e) {
                throw rethrown(Failures.classify(e));
            }
        }
    }

    private static RuntimeException rethrown(Exception classified) throws Unavailable, Refused {
        if (classified instanceof Refused refused) {
            throw refused;
        }
        throw (Unavailable) classified;
    }

    /** Closes the connection; a batch waiting for the server ends with {@link InterruptedException}. */
    @Override
    public void close() {
        closed.countDown();
        link.close();
    }

    @Override
    public String toString() {
        return "NatsSink[" + link.address() + ", subject " + subjects + (binding == null ? "" : ", stream " + binding.stream()) + "]";
    }

    /**
     * The sink's settings: for library users, and the daemon's {@code sink: nats:} keys (kebab-case there:
     * {@code publish-timeout}). Any component may be null for its default; {@link #problems()} checks them all.
     *
     * @param url            the server, {@code nats://HOST:PORT} ({@code tls://} for TLS); several separated by commas
     * @param urls           the servers as a list, instead of {@code url}
     * @param subject        the subject template over {@code {schema}}, {@code {table}} and {@code {op}}
     * @param stream         the stream that must take every subject; checked before the first publish to a subject
     * @param createStream   create {@code stream} over the template's subjects when it does not exist (default false)
     * @param format         {@code epidemic} (default), {@code debezium} or {@code cloudevents}
     * @param publishTimeout how long one acknowledgement may take ({@code 5s})
     * @param maxInFlight    how many messages may await their acknowledgement at once (512)
     * @param user           user name, with {@code password}
     * @param password       masked in {@link #toString()}
     * @param token          an authentication token, instead of a user; masked in {@link #toString()}
     * @param credentials    a {@code .creds} file (JWT and NKey seed), instead of a user or token
     * @param tls            key and trust stores for TLS
     */
    public record Settings(String url, List<String> urls, String subject, String stream, Boolean createStream, String format,
                           String publishTimeout, Integer maxInFlight, String user, String password, String token,
                           String credentials, Tls tls) {

        /** The defaults, with one server. */
        public static Settings forUrl(String url) {
            return new Settings(url, null, null, null, null, null, null, null, null, null, null, null, null);
        }

        public Settings withSubject(String subject) {
            return new Settings(url, urls, subject, stream, createStream, format, publishTimeout, maxInFlight, user, password, token, credentials, tls);
        }

        public Settings withStream(String stream) {
            return new Settings(url, urls, subject, stream, createStream, format, publishTimeout, maxInFlight, user, password, token, credentials, tls);
        }

        public Settings withCreateStream(boolean createStream) {
            return new Settings(url, urls, subject, stream, createStream, format, publishTimeout, maxInFlight, user, password, token, credentials, tls);
        }

        public Settings withFormat(String format) {
            return new Settings(url, urls, subject, stream, createStream, format, publishTimeout, maxInFlight, user, password, token, credentials, tls);
        }

        public Settings withPublishTimeout(String publishTimeout) {
            return new Settings(url, urls, subject, stream, createStream, format, publishTimeout, maxInFlight, user, password, token, credentials, tls);
        }

        public Settings withMaxInFlight(int maxInFlight) {
            return new Settings(url, urls, subject, stream, createStream, format, publishTimeout, maxInFlight, user, password, token, credentials, tls);
        }

        public Settings withUser(String user, String password) {
            return new Settings(url, urls, subject, stream, createStream, format, publishTimeout, maxInFlight, user, password, token, credentials, tls);
        }

        /**
         * TLS with the client's key and trust stores (JKS or PKCS12 files). A {@code tls://} URL with no stores
         * uses the JVM's default trust.
         */
        public record Tls(String truststore, String truststorePassword, String keystore, String keystorePassword) {
            @Override
            public String toString() {
                return "Tls[truststore=" + truststore + ", truststore-password=" + masked(truststorePassword)
                        + ", keystore=" + keystore + ", keystore-password=" + masked(keystorePassword) + "]";
            }
        }

        /** A problem with one key, named as the daemon's file writes it ({@code publish-timeout}). */
        public record Problem(String key, String message) {
            @Override
            public String toString() {
                return key + ": " + message;
            }
        }

        /** Every problem of these settings; empty when they are usable. Nothing is connected to. */
        public List<Problem> problems() {
            List<Problem> problems = new ArrayList<>();
            boolean hasUrl = url != null;
            boolean hasUrls = urls != null && !urls.isEmpty();
            if (hasUrl == hasUrls) {
                problems.add(new Problem(hasUrl ? "urls" : "url", hasUrl ? "give url or urls, not both"
                        : "missing required key: the NATS server, e.g. nats://127.0.0.1:4222"));
            } else if (hasUrl) {
                List<String> each = List.of(url.split(","));
                for (String one : each) {
                    serverProblem(one).ifPresent(p -> problems.add(new Problem("url", p)));
                }
            } else {
                for (int i = 0; i < urls.size(); i++) {
                    int index = i;
                    serverProblem(urls.get(i)).ifPresent(p -> problems.add(new Problem("urls[" + index + "]", p)));
                }
            }
            String subjectProblem = SubjectTemplate.problem(subjectOrDefault());
            if (subjectProblem != null) {
                problems.add(new Problem("subject", subjectProblem));
            }
            if (stream != null && (stream.isBlank() || stream.strip().chars().anyMatch(c -> c == '.' || c == '*' || c == '>' || Character.isWhitespace(c)))) {
                problems.add(new Problem("stream", "'" + stream + "' is not a stream name; it cannot be empty or hold '.', '*', '>' or white space"));
            }
            if (Boolean.TRUE.equals(createStream) && stream == null) {
                problems.add(new Problem("create-stream", "needs stream: name the stream to create"));
            }
            if (!ChangeFormat.NAMES.contains(formatOrDefault())) {
                problems.add(new Problem("format", "must be one of " + String.join(", ", ChangeFormat.NAMES) + ", not '" + format + "'"));
            }
            if (publishTimeout != null) {
                Duration timeout = DurationText.parse(publishTimeout);
                if (timeout == null) {
                    problems.add(new Problem("publish-timeout", DurationText.problem(publishTimeout)));
                } else if (timeout.isZero()) {
                    problems.add(new Problem("publish-timeout", "must be more than 0"));
                }
            }
            if (maxInFlight != null && maxInFlight < 1) {
                problems.add(new Problem("max-in-flight", "must be at least 1, not " + maxInFlight));
            }
            credentialProblems(problems);
            if (tls != null) {
                fileProblem("tls.truststore", tls.truststore()).ifPresent(problems::add);
                fileProblem("tls.keystore", tls.keystore()).ifPresent(problems::add);
            }
            return problems;
        }

        private void credentialProblems(List<Problem> problems) {
            int ways = (user != null ? 1 : 0) + (token != null ? 1 : 0) + (credentials != null ? 1 : 0);
            if (ways > 1) {
                problems.add(new Problem(user != null ? "user" : "token", "give one of user (with password), token and credentials"));
            }
            if (password != null && user == null) {
                problems.add(new Problem("password", "needs user"));
            }
            if (user != null && user.isBlank()) {
                problems.add(new Problem("user", "is empty"));
            }
            if (token != null && token.isEmpty()) {
                problems.add(new Problem("token", "is empty; set the variable it names, or leave token out"));
            }
            fileProblem("credentials", credentials).ifPresent(problems::add);
        }

        /** Throws the first problem, the key named in its message. */
        public void validate() {
            List<Problem> problems = problems();
            if (!problems.isEmpty()) {
                throw new InvalidInputException("NATS sink " + problems.get(0));
            }
        }

        String subjectOrDefault() {
            return subject == null ? DEFAULT_SUBJECT : subject.strip();
        }

        /** The format's name, {@code epidemic} when not given. */
        public String formatOrDefault() {
            return format == null ? "epidemic" : format.strip();
        }

        Duration publishTimeoutOrDefault() {
            return publishTimeout == null ? DEFAULT_PUBLISH_TIMEOUT : DurationText.parse(publishTimeout);
        }

        List<String> servers() {
            List<String> given = url != null ? List.of(url.split(",")) : urls;
            return given.stream().map(String::strip).map(s -> s.contains("://") ? s : "nats://" + s).toList();
        }

        /** The client's options for the servers, credentials and TLS (the link adds the rest). */
        Options.Builder clientOptions() {
            Options.Builder options = new Options.Builder().servers(servers().toArray(String[]::new))
                    .connectionTimeout(publishTimeoutOrDefault());
            if (user != null) {
                options.userInfo(user.toCharArray(), password == null ? new char[0] : password.toCharArray());
            } else if (token != null) {
                options.token(token.toCharArray());
            } else if (credentials != null) {
                options.authHandler(Nats.credentials(credentials));
            }
            if (tls != null) {
                if (tls.truststore() != null) {
                    options.truststorePath(tls.truststore());
                    options.truststorePassword(tls.truststorePassword() == null ? null : tls.truststorePassword().toCharArray());
                }
                if (tls.keystore() != null) {
                    options.keystorePath(tls.keystore());
                    options.keystorePassword(tls.keystorePassword() == null ? null : tls.keystorePassword().toCharArray());
                }
            }
            return options;
        }

        private static java.util.Optional<String> serverProblem(String server) {
            String text = server == null ? "" : server.strip();
            if (text.isEmpty()) {
                return java.util.Optional.of("is empty; give a server such as nats://127.0.0.1:4222");
            }
            try {
                URI uri = URI.create(text.contains("://") ? text : "nats://" + text);
                if (!List.of("nats", "tls", "opentls", "ws", "wss").contains(String.valueOf(uri.getScheme()).toLowerCase(Locale.ROOT))) {
                    return java.util.Optional.of("'" + NatsLink.shown(text) + "' is not a NATS URL; expected nats://HOST:PORT or tls://HOST:PORT");
                }
                if (uri.getHost() == null) {
                    return java.util.Optional.of("'" + NatsLink.shown(text) + "' has no host");
                }
                return java.util.Optional.empty();
            } catch (IllegalArgumentException e) {
                return java.util.Optional.of("'" + NatsLink.shown(text) + "' is not a valid URL");
            }
        }

        private static java.util.Optional<Problem> fileProblem(String key, String file) {
            if (file == null) {
                return java.util.Optional.empty();
            }
            Path path = Path.of(file.strip());
            if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
                return java.util.Optional.of(new Problem(key, "cannot read the file " + path));
            }
            return java.util.Optional.empty();
        }

        private static String masked(String secret) {
            return secret == null ? null : "***";
        }

        @Override
        public String toString() {
            return "Settings[url=" + (url == null ? null : String.join(",", servers().stream().map(NatsLink::shown).toList()))
                    + ", urls=" + (urls == null ? null : urls.stream().map(NatsLink::shown).toList()) + ", subject=" + subject
                    + ", stream=" + stream + ", create-stream=" + createStream + ", format=" + format + ", publish-timeout=" + publishTimeout
                    + ", max-in-flight=" + maxInFlight + ", user=" + user + ", password=" + masked(password) + ", token=" + masked(token)
                    + ", credentials=" + credentials + ", tls=" + tls + "]";
        }
    }
}
