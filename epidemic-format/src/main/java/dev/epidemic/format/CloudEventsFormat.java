package dev.epidemic.format;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.epidemic.api.Change;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicException;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A change as a CloudEvent 1.0 whose data is Epidemic's JSON line: {@code id} the change id (identical on
 * redelivery, so a receiver de-duplicates on source and id), {@code source} {@code /epidemic/<connector>/<database>},
 * {@code type} {@code dev.epidemic.change.<op>}, {@code subject} the table, {@code time} when the change was made.
 * Structured mode puts it all in one JSON object ({@code application/cloudevents+json}); binary mode
 * sends the data as the value and the attributes as {@code ce-} headers.
 */
final class CloudEventsFormat implements ChangeFormat {
    static final String TYPE_PREFIX = "dev.epidemic.change.";
    static final String STRUCTURED = "application/cloudevents+json";

    private final Supplier<Origin> origin;
    private final boolean binary;

    CloudEventsFormat(Supplier<Origin> origin, boolean binary) {
        this.origin = origin;
        this.binary = binary;
    }

    @Override
    public String name() {
        return "cloudevents";
    }

    @Override
    public ChangeFormat binaryMode() {
        return binary ? this : new CloudEventsFormat(origin, true);
    }

    @Override
    public String batchContentType() {
        return binary ? "application/json" : "application/cloudevents-batch+json";
    }

    @Override
    public Message format(Change change) {
        String key = change.key() == null ? null : Jsons.write(change.key(), change.id());
        if (binary) {
            Map<String, String> headers = new LinkedHashMap<>();
            attributes(change).forEach((name, value) -> headers.put("ce-" + name, value));
            return new Message(key, Epidemic.toJson(change), "application/json", headers);
        }
        return new Message(key, value(change), STRUCTURED, Map.of());
    }

    @Override
    public String value(Change change) {
        String data = Epidemic.toJson(change);
        if (binary) {
            return data;
        }
        StringWriter text = new StringWriter(data.length() + 256);
        try (JsonGenerator json = Jsons.MAPPER.getFactory().createGenerator(text)) {
            json.writeStartObject();
            for (Map.Entry<String, String> attribute : attributes(change).entrySet()) {
                json.writeStringField(attribute.getKey(), attribute.getValue());
            }
            json.writeStringField("datacontenttype", "application/json");
            json.writeFieldName("data");
            json.writeRawValue(data); // the epidemic line byte for byte, not parsed and written again
            json.writeEndObject();
        } catch (IOException e) {
            throw new EpidemicException("cannot render change " + change.id() + " as a CloudEvent", e);
        }
        return text.toString();
    }

    /** The context attributes, in the order the specification lists them. */
    private Map<String, String> attributes(Change change) {
        Origin from = origin.get();
        Map<String, String> attributes = new LinkedHashMap<>();
        attributes.put("specversion", "1.0");
        attributes.put("id", Long.toString(change.id()));
        attributes.put("source", "/epidemic/" + from.connector() + "/" + pathSegment(from.database()));
        attributes.put("type", TYPE_PREFIX + change.operation().name().toLowerCase(Locale.ROOT));
        attributes.put("subject", change.table());
        attributes.put("time", change.at().toString());
        return attributes;
    }

    /** {@code source} is a URI reference: a database name with a space or a slash in it is percent-encoded. */
    private static String pathSegment(String name) {
        StringBuilder out = new StringBuilder();
        for (byte b : (name == null ? "" : name).getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0) {
                out.append(c);
            } else {
                out.append('%').append(String.format("%02X", b & 0xff));
            }
        }
        return out.toString();
    }
}
