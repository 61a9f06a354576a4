package dev.epidemic.format;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One change as a sink sends it.
 *
 * @param key         the message key, a JSON object of the primary-key columns (for a broker's partitioning and
 *                    compaction); {@code null} for a TRUNCATE, which has no row
 * @param value       the message body, one line of JSON text
 * @param contentType the value's media type: {@code application/json}, or {@code application/cloudevents+json}
 *                    for a CloudEvent in structured mode
 * @param headers     the format's own headers (CloudEvents' {@code ce-} attributes in binary mode); empty for
 *                    the others. A sink adds its transport's headers (content type, change id) itself.
 */
public record Message(String key, String value, String contentType, Map<String, String> headers) {
    public Message {
        headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers)); // in the order the format gives them
    }

    /** The value as UTF-8 bytes. */
    public byte[] valueBytes() {
        return value.getBytes(StandardCharsets.UTF_8);
    }
}
