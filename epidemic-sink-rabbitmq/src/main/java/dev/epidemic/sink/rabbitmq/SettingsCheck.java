package dev.epidemic.sink.rabbitmq;

import dev.epidemic.format.ChangeFormat;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Checks {@link RabbitMqSink.Settings} once, before anything connects, and fills in the defaults. Each
 * problem is one line starting with the key as the daemon's file spells it.
 */
final class SettingsCheck {
    static final Duration DEFAULT_CONFIRM_TIMEOUT = Duration.ofSeconds(30);
    static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final Set<String> EXCHANGE_TYPES = Set.of("topic", "direct", "fanout", "headers");

    private SettingsCheck() {
    }

    static List<String> problems(RabbitMqSink.Settings s) {
        List<String> problems = new ArrayList<>();
        if (s.uri() != null) {
            if (s.host() != null || s.port() != null || s.virtualHost() != null) {
                problems.add("uri: give either uri or host, port and virtual-host, not both");
            }
            uriProblem(s.uri()).ifPresent(problems::add);
        }
        if (s.host() != null && s.host().isBlank()) {
            problems.add("host: is empty; name the broker's host, or leave the key out for localhost");
        }
        if (s.port() != null && (s.port() < 1 || s.port() > 65_535)) {
            problems.add("port: must be between 1 and 65535, not " + s.port());
        }
        if (s.password() != null && s.passwordFile() != null) {
            problems.add("password-file: give either password or password-file, not both");
        } else if (s.passwordFile() != null) {
            try {
                passwordFromFile(s.passwordFile());
            } catch (IOException e) {
                problems.add("password-file: cannot read " + s.passwordFile() + ": " + reason(e));
            }
        }
        if (s.exchange() == null) {
            problems.add("exchange: missing required key (\"\" is the default exchange, which routes by queue name)");
        }
        if (s.exchangeType() != null) {
            if (!Boolean.TRUE.equals(s.declareExchange())) {
                problems.add("exchange-type: only applies with declare-exchange: true; the sink declares no exchange otherwise");
            } else if (!EXCHANGE_TYPES.contains(s.exchangeType().strip().toLowerCase(Locale.ROOT))) {
                problems.add("exchange-type: must be one of topic, direct, fanout, headers, not '" + s.exchangeType() + "'");
            }
        }
        if (Boolean.TRUE.equals(s.declareExchange()) && s.exchange() != null && (s.exchange().isEmpty() || s.exchange().startsWith("amq."))) {
            problems.add("declare-exchange: the exchange '" + s.exchange() + "' is the broker's own and cannot be declared");
        }
        if (s.routingKey() != null) {
            try {
                RoutingKeyTemplate.parse(s.routingKey());
            } catch (IllegalArgumentException e) {
                problems.add("routing-key: " + e.getMessage());
            }
        }
        if (s.format() != null && !ChangeFormat.NAMES.contains(s.format().strip())) {
            problems.add("format: must be one of " + String.join(", ", ChangeFormat.NAMES) + ", not '" + s.format() + "'");
        }
        durationProblem("confirm-timeout", s.confirmTimeout()).ifPresent(problems::add);
        durationProblem("connect-timeout", s.connectTimeout()).ifPresent(problems::add);
        if (s.tls() != null) {
            storeProblem("tls.trust-store", s.tls().trustStore()).ifPresent(problems::add);
            storeProblem("tls.key-store", s.tls().keyStore()).ifPresent(problems::add);
            if (Boolean.FALSE.equals(s.tls().enabled()) && s.uri() != null && s.uri().strip().toLowerCase(Locale.ROOT).startsWith("amqps:")) {
                problems.add("tls.enabled: is false, but the uri is amqps://, which is TLS");
            }
        }
        return problems;
    }

    private static java.util.Optional<String> uriProblem(String text) {
        try {
            URI uri = new URI(text.strip());
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("amqp") && !scheme.equals("amqps")) {
                return java.util.Optional.of("uri: '" + redact(text) + "' is not an amqp:// or amqps:// URI");
            }
            if (uri.getHost() == null || uri.getHost().isEmpty()) {
                return java.util.Optional.of("uri: '" + redact(text) + "' has no host");
            }
            return java.util.Optional.empty();
        } catch (URISyntaxException e) {
            return java.util.Optional.of("uri: '" + redact(text) + "' is not a valid URI: " + e.getReason());
        }
    }

    private static java.util.Optional<String> durationProblem(String key, String text) {
        if (text == null) {
            return java.util.Optional.empty();
        }
        Duration duration = Durations.parse(text);
        if (duration == null) {
            return java.util.Optional.of(key + ": " + Durations.problem(text));
        }
        if (duration.isZero()) {
            return java.util.Optional.of(key + ": must be more than 0");
        }
        return java.util.Optional.empty();
    }

    private static java.util.Optional<String> storeProblem(String key, String file) {
        if (file != null && !Files.isReadable(Path.of(file))) {
            return java.util.Optional.of(key + ": cannot read " + file);
        }
        return java.util.Optional.empty();
    }

    /** The secrets of the settings, for the daemon to mask wherever a message might quote them. */
    static List<String> secrets(RabbitMqSink.Settings s) {
        List<String> secrets = new ArrayList<>();
        addIfSet(secrets, s.password());
        if (s.passwordFile() != null) {
            try {
                addIfSet(secrets, passwordFromFile(s.passwordFile()));
            } catch (IOException e) {
                // reported by problems()
            }
        }
        if (s.uri() != null) {
            addIfSet(secrets, uriPassword(s.uri()));
        }
        if (s.tls() != null) {
            addIfSet(secrets, s.tls().trustStorePassword());
            addIfSet(secrets, s.tls().keyStorePassword());
        }
        return secrets;
    }

    private static void addIfSet(List<String> secrets, String secret) {
        if (secret != null && !secret.isEmpty()) {
            secrets.add(secret);
        }
    }

    private static String uriPassword(String text) {
        try {
            String userInfo = new URI(text.strip()).getRawUserInfo();
            int colon = userInfo == null ? -1 : userInfo.indexOf(':');
            return colon < 0 ? null : URLDecoder.decode(userInfo.substring(colon + 1), StandardCharsets.UTF_8);
        } catch (URISyntaxException e) {
            return null;
        }
    }

    /** The password in {@code file}: its content without a final line break. */
    static String passwordFromFile(String file) throws IOException {
        String content = Files.readString(Path.of(file), StandardCharsets.UTF_8);
        return content.endsWith("\r\n") ? content.substring(0, content.length() - 2)
                : content.endsWith("\n") ? content.substring(0, content.length() - 1) : content;
    }

    /** The URI with its password replaced by {@code ***}, for messages and logs. */
    static String redact(String uri) {
        return uri.replaceFirst("^([A-Za-z][A-Za-z0-9+.-]*://[^:/@]*):[^@/]*@", "$1:***@");
    }

    static Duration confirmTimeout(RabbitMqSink.Settings s) {
        return s.confirmTimeout() == null ? DEFAULT_CONFIRM_TIMEOUT : Durations.parse(s.confirmTimeout());
    }

    static Duration connectTimeout(RabbitMqSink.Settings s) {
        return s.connectTimeout() == null ? DEFAULT_CONNECT_TIMEOUT : Durations.parse(s.connectTimeout());
    }

    private static String reason(IOException e) {
        return e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }
}
