package dev.epidemic.sink.rabbitmq;

import com.rabbitmq.client.ConnectionFactory;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;

/**
 * Makes the client's {@link ConnectionFactory} from checked settings: address, credentials, timeouts, TLS.
 * The client's own recovery is off: the sink reconnects itself, so that it knows what it waits for and
 * publishes a batch again only on a fresh channel.
 */
final class Connections {
    private Connections() {
    }

    static ConnectionFactory factory(RabbitMqSink.Settings s) throws IOException, GeneralSecurityException, URISyntaxException {
        ConnectionFactory factory = new ConnectionFactory();
        boolean tls = s.tls() != null && Boolean.TRUE.equals(s.tls().enabled());
        if (s.uri() != null) {
            URI uri = URI.create(s.uri().strip()); // checked before
            tls |= uri.getScheme().equalsIgnoreCase("amqps");
            // The client would make amqps:// a TLS context that trusts every certificate: TLS is set up below instead.
            factory.setUri(new URI("amqp" + uri.toString().substring(uri.getScheme().length())));
            if (tls && uri.getPort() < 0) {
                factory.setPort(ConnectionFactory.DEFAULT_AMQP_OVER_SSL_PORT);
            }
        } else {
            factory.setHost(s.host() == null ? "localhost" : s.host().strip());
            factory.setPort(s.port() != null ? s.port() : tls ? ConnectionFactory.DEFAULT_AMQP_OVER_SSL_PORT : ConnectionFactory.DEFAULT_AMQP_PORT);
            if (s.virtualHost() != null) {
                factory.setVirtualHost(s.virtualHost());
            }
        }
        if (s.username() != null) {
            factory.setUsername(s.username());
        }
        if (s.password() != null) {
            factory.setPassword(s.password());
        } else if (s.passwordFile() != null) {
            factory.setPassword(SettingsCheck.passwordFromFile(s.passwordFile()));
        }
        int connectMillis = (int) SettingsCheck.connectTimeout(s).toMillis();
        factory.setConnectionTimeout(connectMillis);
        factory.setHandshakeTimeout(connectMillis);
        factory.setAutomaticRecoveryEnabled(false);
        factory.setTopologyRecoveryEnabled(false);
        if (tls) {
            factory.useSslProtocol(sslContext(s.tls()));
            if (s.tls() == null || !Boolean.FALSE.equals(s.tls().verifyHostname())) {
                factory.enableHostnameVerification();
            }
        }
        return factory;
    }

    private static SSLContext sslContext(RabbitMqSink.Tls tls) throws IOException, GeneralSecurityException {
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(tls == null || tls.trustStore() == null ? null : load(tls.trustStore(), tls.trustStorePassword())); // null: the JVM's
        KeyManagerFactory keys = null;
        if (tls != null && tls.keyStore() != null) {
            keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(load(tls.keyStore(), tls.keyStorePassword()), chars(tls.keyStorePassword()));
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys == null ? null : keys.getKeyManagers(), trust.getTrustManagers(), null);
        return context;
    }

    private static KeyStore load(String file, String password) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType()); // PKCS12; the JDK reads JKS through it too
        try (InputStream in = Files.newInputStream(Path.of(file))) {
            store.load(in, chars(password));
        }
        return store;
    }

    private static char[] chars(String password) {
        return password == null ? new char[0] : password.toCharArray();
    }
}
