package dev.epidemic.sink.redis;

import dev.epidemic.api.BatchHandler;
import dev.epidemic.api.Change;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.format.ChangeFormat;
import dev.epidemic.format.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPool;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.params.XAddParams;

import javax.sql.DataSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Appends each change to a Redis stream with {@code XADD}: one entry per change, in the order the engine hands
 * them over, all of a batch sent in one pipeline. {@link #handle} returns only when Redis has answered every
 * {@code XADD} of the batch, so the consumer's position moves only past changes that Redis holds (at least once).
 *
 * <p>Each entry's fields are {@code epidemic-change-id}, {@code epidemic-txid}, {@code epidemic-table}
 * ({@code schema.table}), {@code epidemic-op} ({@code insert}, {@code update}, {@code delete}, {@code truncate} or
 * {@code read}), the format's own headers (CloudEvents' {@code ce-} attributes: the format runs in binary mode,
 * since fields are Redis' headers), {@code content-type}, {@code key} (the primary key as JSON; absent for a
 * TRUNCATE, which has no row) and {@code value}, the message the format makes (for {@code epidemic}, the line
 * {@code epidemic tail} prints).
 *
 * <p>Redis does not de-duplicate {@code XADD}: a batch written again after a crash, or after a connection lost
 * before the replies came, appears twice in the stream. Such a redelivery carries the same
 * {@code epidemic-change-id}, by which a reader recognises it.
 *
 * <p>While Redis cannot be reached (down, restarting, loading its data, a timeout, a lost connection) the sink
 * retries the batch, waiting 100 ms and doubling up to 10 s, with one WARN line per attempt, until Redis answers,
 * the thread is interrupted or the sink is closed: the consumer holds its position and nothing is lost. A
 * refusal that waiting cannot cure (the key holds something other than a stream, the user may not write it, a
 * wrong password) throws a {@link RedisRefusedException} naming the change, and the table's failure policy
 * follows (retries, then a dead letter or a stop). Thread-safe: each batch borrows a connection of its own.
 */
public final class RedisSink implements BatchHandler, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisSink.class);
    static final Duration FIRST_WAIT = Duration.ofMillis(100);
    static final Duration LONGEST_WAIT = Duration.ofSeconds(10);
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    /** Errors of a server that is starting, failing over or short of memory: they pass by themselves. */
    private static final List<String> PASSING_ERRORS = List.of("LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "READONLY", "OOM",
            "CLUSTERDOWN", "NOREPLICAS");

    private final RedisAddress address;
    private final StreamKeyTemplate streams;
    private final Long maxlen;
    private final ChangeFormat format;
    private final JedisPool pool;
    private volatile boolean closed;

    /**
     * The sink's settings, which are also the daemon's {@code redis:} keys (kebab-case there: {@code password-file}).
     * Only {@code url} is required; see docs/sinks/redis.md.
     *
     * @param url          {@code redis://HOST[:PORT][/DATABASE]}, or {@code rediss://} for TLS; may carry {@code USER:PASSWORD@}
     * @param username     the ACL user (Redis 6+); null for the URL's, or {@code default}
     * @param password     null for {@code passwordFile}'s, or the URL's, or none
     * @param passwordFile a file whose content (without a final line break) is the password
     * @param stream       the stream key template over {@code {schema}}, {@code {table}} and {@code {op}};
     *                     null for {@code epidemic:{schema}.{table}}
     * @param maxlen       when given, each {@code XADD} trims the stream to about this many entries ({@code MAXLEN ~})
     * @param format       {@code epidemic} (null), {@code debezium} or {@code cloudevents}
     * @param timeout      connect and reply timeout, e.g. {@code 10s} (null), {@code 500ms}
     * @param tlsCaFile    with {@code rediss://}: a PEM file of the certificates that may sign Redis' certificate; null
     *                     for the JVM's trust store. The host name is verified against the certificate either way.
     */
    public record Settings(String url, String username, String password, String passwordFile, String stream, Long maxlen,
                           String format, String timeout, String tlsCaFile) {

        /** Settings with only the URL; every other key takes its default. */
        public static Settings of(String url) {
            return new Settings(url, null, null, null, null, null, null, null, null);
        }

        public Settings withStream(String template) {
            return new Settings(url, username, password, passwordFile, template, maxlen, format, timeout, tlsCaFile);
        }

        public Settings withFormat(String name) {
            return new Settings(url, username, password, passwordFile, stream, maxlen, name, timeout, tlsCaFile);
        }

        public Settings withMaxlen(Long entries) {
            return new Settings(url, username, password, passwordFile, stream, entries, format, timeout, tlsCaFile);
        }

        public Settings withCredentials(String user, String secret) {
            return new Settings(url, user, secret, passwordFile, stream, maxlen, format, timeout, tlsCaFile);
        }

        public Settings withTlsCaFile(String pemFile) {
            return new Settings(url, username, password, passwordFile, stream, maxlen, format, timeout, pemFile);
        }

        public Settings withTimeout(String duration) {
            return new Settings(url, username, password, passwordFile, stream, maxlen, format, duration, tlsCaFile);
        }

        @Override
        public String toString() {
            return "Settings[url=" + RedisAddress.redact(url) + ", username=" + username + ", password=" + (password == null ? null : "***")
                    + ", password-file=" + passwordFile + ", stream=" + stream + ", maxlen=" + maxlen + ", format=" + format
                    + ", timeout=" + timeout + ", tls-ca-file=" + tlsCaFile + "]";
        }
    }

    /** What is wrong with one key of the {@link Settings}: {@code key} as the daemon's file spells it. */
    public record Problem(String key, String message) {
        @Override
        public String toString() {
            return key + ": " + message;
        }
    }

    /**
     * Everything wrong with {@code settings}, each naming its key; empty when the sink can be built. Reads the
     * password file, so that a missing one is reported before anything runs; nothing is sent to Redis.
     */
    public static List<Problem> problems(Settings settings) {
        List<Problem> problems = new ArrayList<>();
        if (settings.url() == null || settings.url().isBlank()) {
            problems.add(new Problem("url", "missing required key; write redis://HOST[:PORT][/DATABASE] or rediss:// for TLS"));
        } else {
            try {
                RedisAddress.parse(settings.url());
            } catch (IllegalArgumentException e) {
                problems.add(new Problem("url", "'" + RedisAddress.redact(settings.url().strip()) + "' " + e.getMessage()));
            }
        }
        if (settings.username() != null && settings.username().isBlank()) {
            problems.add(new Problem("username", "is empty; name the ACL user, or leave the key out"));
        }
        if (settings.password() != null && settings.passwordFile() != null) {
            problems.add(new Problem("password-file", "cannot be given with password; give one of them"));
        } else if (settings.passwordFile() != null) {
            try {
                readPasswordFile(settings.passwordFile());
            } catch (IOException | RuntimeException e) {
                problems.add(new Problem("password-file", "cannot read " + settings.passwordFile().strip() + ": "
                        + (e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage())));
            }
        }
        if (settings.stream() != null) {
            String problem = StreamKeyTemplate.problem(settings.stream());
            if (problem != null) {
                problems.add(new Problem("stream", problem));
            }
        }
        if (settings.maxlen() != null && settings.maxlen() < 1) {
            problems.add(new Problem("maxlen", "must be at least 1, not " + settings.maxlen() + "; leave the key out to keep every entry"));
        }
        if (settings.format() != null && !ChangeFormat.NAMES.contains(settings.format().strip())) {
            problems.add(new Problem("format", "must be one of " + String.join(", ", ChangeFormat.NAMES) + ", not '" + settings.format() + "'"));
        }
        if (settings.timeout() != null) {
            Duration timeout = Durations.parse(settings.timeout());
            if (timeout == null) {
                problems.add(new Problem("timeout", "'" + settings.timeout() + "' is not a duration; write a number and a unit: ms, s, m or h (e.g. 500ms, 10s)"));
            } else if (timeout.isZero()) {
                problems.add(new Problem("timeout", "must be more than 0"));
            }
        }
        if (settings.tlsCaFile() != null) {
            if (settings.url() != null && !settings.url().strip().toLowerCase(Locale.ROOT).startsWith("rediss://")) {
                problems.add(new Problem("tls-ca-file", "is for TLS only; write the url with rediss://"));
            } else {
                try {
                    TlsTrust.fromPem(Path.of(settings.tlsCaFile().strip()));
                } catch (IOException | java.security.GeneralSecurityException | RuntimeException e) {
                    problems.add(new Problem("tls-ca-file", "cannot read certificates from " + settings.tlsCaFile().strip() + ": "
                            + (e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage())));
                }
            }
        }
        return List.copyOf(problems);
    }

    /** Throws an {@link InvalidInputException} naming the first problem's key, if {@code settings} has any. */
    public static void validate(Settings settings) {
        List<Problem> problems = problems(settings);
        if (!problems.isEmpty()) {
            throw new InvalidInputException("redis sink: " + problems.get(0));
        }
    }

    /**
     * A sink with these settings. Connections are made when the first batch comes, so a Redis that is down
     * delays delivery, not the start.
     *
     * @param changesFrom the database the changes come from, which the {@code debezium} and {@code cloudevents}
     *                    formats name (and {@code debezium} reads column types from); may be null for {@code epidemic}
     * @throws InvalidInputException when {@link #problems} finds any
     */
    public RedisSink(Settings settings, DataSource changesFrom) {
        validate(settings);
        this.address = RedisAddress.parse(settings.url());
        this.streams = StreamKeyTemplate.of(settings.stream() == null ? StreamKeyTemplate.DEFAULT : settings.stream());
        this.maxlen = settings.maxlen();
        this.format = ChangeFormat.named(settings.format() == null ? "epidemic" : settings.format().strip(), changesFrom).binaryMode();
        int timeout = (int) (settings.timeout() == null ? DEFAULT_TIMEOUT : Durations.parse(settings.timeout())).toMillis();
        DefaultJedisClientConfig.Builder client = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(timeout).socketTimeoutMillis(timeout)
                .database(address.database()).ssl(address.tls()).clientName("epidemic")
                .autoNegotiateProtocol(false); // Jedis speaks RESP2 with any Redis; negotiating would only log a warning
        String user = settings.username() != null ? settings.username().strip() : address.user();
        String password = password(settings);
        if (user != null) {
            client.user(user);
        }
        if (password != null) {
            client.password(password);
        }
        if (settings.tlsCaFile() != null) {
            try {
                client.sslSocketFactory(TlsTrust.fromPem(Path.of(settings.tlsCaFile().strip())));
            } catch (IOException | java.security.GeneralSecurityException e) {
                throw new InvalidInputException("redis sink: tls-ca-file: cannot read certificates from " + settings.tlsCaFile() + ": " + e.getMessage());
            }
        }
        this.pool = new JedisPool(new HostAndPort(address.host(), address.port()), client.build());
    }

    private static String password(Settings settings) {
        if (settings.password() != null) {
            return settings.password();
        }
        if (settings.passwordFile() != null) {
            try {
                return readPasswordFile(settings.passwordFile());
            } catch (IOException e) {
                throw new InvalidInputException("redis sink: password-file: cannot read " + settings.passwordFile() + ": " + e.getMessage());
            }
        }
        return RedisAddress.parse(settings.url()).password();
    }

    private static String readPasswordFile(String file) throws IOException {
        String content = Files.readString(Path.of(file.strip()), StandardCharsets.UTF_8);
        // Files written by echo or an editor end with a line break that is not part of the password.
        return content.endsWith("\r\n") ? content.substring(0, content.length() - 2)
                : content.endsWith("\n") ? content.substring(0, content.length() - 1) : content;
    }

    /** Where the sink writes, as log lines name it: {@code host:port}. */
    public String address() {
        return address.toString();
    }

    /**
     * Writes the batch, in order, and returns once Redis has acknowledged every entry; waits while Redis cannot
     * be reached (see the class comment).
     *
     * @throws RedisRefusedException  Redis refused an entry for a reason that waiting does not cure
     * @throws InterruptedException   the thread was interrupted while waiting for Redis
     * @throws IOException            the sink was closed while waiting for Redis
     */
    @Override
    public void handle(List<Change> changes) throws RedisRefusedException, InterruptedException, IOException {
        if (changes.isEmpty()) {
            return;
        }
        List<Entry> entries = changes.stream().map(this::entry).toList();
        Duration wait = FIRST_WAIT;
        for (int attempt = 1; ; attempt++) {
            if (closed) {
                throw new IOException("Redis sink for " + address + " is closed; " + changes.size() + " change(s) not written");
            }
            try {
                write(entries);
                if (attempt > 1) {
                    log.info("Redis {} answers again: wrote {} change(s) from change {} after {} attempts", address, changes.size(),
                            changes.get(0).id(), attempt);
                }
                return;
            } catch (JedisException e) {
                if (!passes(e)) {
                    throw e instanceof Refused refused ? refused.toException(address) : refusedBatch(changes, e);
                }
                log.warn("Redis {} cannot take {} change(s) from change {} of {} ({}); waiting {} ms for it to answer (attempt {})",
                        address, changes.size(), changes.get(0).id(), changes.get(0).table(), reason(e), wait.toMillis(), attempt);
            }
            Thread.sleep(wait.toMillis());
            wait = wait.multipliedBy(2).compareTo(LONGEST_WAIT) > 0 ? LONGEST_WAIT : wait.multipliedBy(2);
        }
    }

    /** One change as the stream key and fields of its XADD, made once, before any attempt. */
    private record Entry(Change change, String stream, Map<String, String> fields) {
    }

    private Entry entry(Change change) {
        Message message = format.format(change);
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("epidemic-change-id", Long.toString(change.id()));
        fields.put("epidemic-txid", Long.toString(change.txid()));
        fields.put("epidemic-table", change.table());
        fields.put("epidemic-op", change.operation().name().toLowerCase(Locale.ROOT));
        fields.putAll(message.headers());
        fields.put("content-type", message.contentType());
        if (message.key() != null) {
            fields.put("key", message.key()); // Redis has no null: a TRUNCATE's entry has no key field
        }
        fields.put("value", message.value());
        return new Entry(change, streams.keyFor(change), fields);
    }

    private void write(List<Entry> entries) {
        try (Jedis jedis = pool.getResource()) {
            Pipeline pipeline = jedis.pipelined();
            List<Response<?>> replies = new ArrayList<>(entries.size());
            for (Entry entry : entries) {
                XAddParams params = XAddParams.xAddParams();
                if (maxlen != null) {
                    params.maxLen(maxlen).approximateTrimming();
                }
                replies.add(pipeline.xadd(entry.stream(), params, entry.fields()));
            }
            pipeline.sync(); // reads every reply; a lost connection throws here
            for (int i = 0; i < replies.size(); i++) {
                try {
                    replies.get(i).get();
                } catch (JedisDataException e) {
                    throw new Refused(entries.get(i), e);
                }
            }
        }
    }

    /** An error reply to one XADD of the pipeline, with the entry it answers. */
    private static final class Refused extends JedisDataException {
        private final transient Entry entry;

        Refused(Entry entry, JedisDataException cause) {
            super(cause.getMessage(), cause);
            this.entry = entry;
        }

        RedisRefusedException toException(RedisAddress address) {
            Change change = entry.change();
            return new RedisRefusedException("Redis " + address + " refused change " + change.id() + " of " + change.table()
                    + " (stream " + entry.stream() + "): " + getMessage(), change.id(), getCause());
        }
    }

    private RedisRefusedException refusedBatch(List<Change> changes, JedisException e) {
        Change first = changes.get(0);
        return new RedisRefusedException("Redis " + address + " refused change " + first.id() + " of " + first.table()
                + " and the " + (changes.size() - 1) + " after it in its batch: " + reason(e), first.id(), e);
    }

    /** Whether waiting may cure it: the connection, or a server that is starting, failing over or short of memory. */
    private static boolean passes(JedisException e) {
        if (e instanceof JedisConnectionException) {
            return true;
        }
        if (e instanceof JedisDataException) {
            String message = e.getMessage() == null ? "" : e.getMessage();
            return PASSING_ERRORS.stream().anyMatch(code -> message.startsWith(code + " ") || message.equals(code));
        }
        return e.getCause() instanceof JedisConnectionException; // the pool could not make a connection
    }

    private static String reason(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null && (cause.getMessage() == null || cause instanceof JedisConnectionException && cause.getCause().getMessage() != null)) {
            cause = cause.getCause();
        }
        String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }

    /** Closes the connections; a batch waiting for Redis gives up with an IOException. */
    @Override
    public void close() {
        closed = true;
        pool.close();
    }
}
