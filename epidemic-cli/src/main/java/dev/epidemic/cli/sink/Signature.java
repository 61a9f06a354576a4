package dev.epidemic.cli.sink;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;

/**
 * The {@code X-Epidemic-Signature} header's value: {@code sha256=} and the lowercase hex HMAC-SHA256 of
 * the exact body bytes, keyed with the secret's UTF-8 bytes. A receiver recomputes it over the raw body
 * it received (before any JSON parsing) and compares in constant time.
 */
public final class Signature {
    public static final String HEADER = "X-Epidemic-Signature";

    private Signature() {
    }

    public static String of(byte[] body, String secret) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JVM", e); // every Java 17 JVM has it
        }
    }
}
