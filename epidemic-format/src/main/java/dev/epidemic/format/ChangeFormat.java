package dev.epidemic.format;

import dev.epidemic.api.Change;
import dev.epidemic.api.InvalidInputException;

import javax.sql.DataSource;
import java.util.List;

/**
 * How a change leaves Epidemic: the bytes a sink sends (stdout, a webhook, a broker), with the message key
 * and headers a broker sink needs. Chosen by name ({@link #named}):
 * <ul>
 *   <li>{@code epidemic}: the JSON line of {@code epidemic tail} ({@link dev.epidemic.api.Epidemic#toJson});</li>
 *   <li>{@code debezium}: the value envelope of Debezium's PostgreSQL connector with JSON schemas disabled
 *       ({@code before, after, source, op, ts_ms}), its values typed as Debezium's defaults type them;</li>
 *   <li>{@code cloudevents}: a CloudEvents 1.0 event in JSON structured mode whose data is the
 *       {@code epidemic} JSON; {@link #binaryMode()} gives the same event in binary mode.</li>
 * </ul>
 * docs/formats.md shows each with an example. Formats are thread-safe.
 */
public interface ChangeFormat {
    /** The names {@link #named} accepts, the default first. */
    List<String> NAMES = List.of("epidemic", "debezium", "cloudevents");

    /** The format's name, as given to {@link #named}. */
    String name();

    /** The change as one message. */
    Message format(Change change);

    /** Only the message's value, for a sink that sends no key and no headers (stdout): spares making them. */
    default String value(Change change) {
        return format(change).value();
    }

    /** The content type of a JSON array of this format's messages, as a webhook sends a batch. */
    default String batchContentType() {
        return "application/json";
    }

    /**
     * The variant for a transport that carries headers (Kafka, NATS, AMQP): for {@code cloudevents}, binary
     * content mode, whose value is the event's data and whose attributes are {@code ce-} headers. The other
     * formats have no such mode and return themselves.
     */
    default ChangeFormat binaryMode() {
        return this;
    }

    /**
     * The format of this name.
     *
     * @param dataSource the database the changes come from: {@code debezium} reads the column types of a
     *                   table from its catalog the first time it formats a change of that table, and names the
     *                   database in {@code source}; {@code cloudevents} names it in {@code source}. Not used
     *                   before the first change is formatted.
     * @throws InvalidInputException for a name not in {@link #NAMES}
     */
    static ChangeFormat named(String name, DataSource dataSource) {
        String wanted = name == null ? "" : name.strip();
        return switch (wanted) {
            case "epidemic" -> new EpidemicFormat();
            case "debezium" -> new DebeziumFormat(Origin.lazy(dataSource), ColumnTypes.fromCatalog(dataSource), java.time.Clock.systemUTC());
            case "cloudevents" -> new CloudEventsFormat(Origin.lazy(dataSource), false);
            default -> throw new InvalidInputException(unknown(name));
        };
    }

    /** The one-line message for a name that is not a format, naming the allowed values. */
    static String unknown(String name) {
        return "unknown format '" + name + "'; expected one of " + String.join(", ", NAMES);
    }
}
