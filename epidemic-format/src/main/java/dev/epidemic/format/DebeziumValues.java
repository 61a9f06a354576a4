package dev.epidemic.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectWriter;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a captured value (what {@code to_jsonb} made of the column) into the JSON value Debezium's
 * connector emits for that column type with its default settings and the JSON converter without schemas:
 * <ul>
 *   <li>{@code decimal.handling.mode=precise}: a numeric of declared scale is the base64 of its unscaled
 *       value's two's-complement bytes; one without a declared scale is {@code {"scale": s, "value": base64}};</li>
 *   <li>{@code time.precision.mode=adaptive}: {@code timestamp} is epoch milliseconds (0 to 3 fractional
 *       digits) or microseconds (4 to 6), {@code date} days since the epoch, {@code time} milliseconds or
 *       microseconds since midnight; {@code timestamptz} and {@code timetz} ISO-8601 strings in UTC;</li>
 *   <li>{@code json} and {@code jsonb}: the JSON text as a string;</li>
 *   <li>{@code binary.handling.mode=bytes}: {@code bytea} as base64.</li>
 * </ul>
 * A value that does not have the shape its type promises (PostgreSQL's {@code infinity}, a numeric
 * {@code NaN}) passes unchanged rather than failing the change.
 */
final class DebeziumValues {
    /** PostgreSQL's own text for jsonb, {@code {"a": 1, "b": [1, 2]}}, which Debezium passes on. */
    private static final ObjectWriter JSONB_TEXT = Jsons.MAPPER.writer(new DefaultPrettyPrinter()
            .withSeparators(Separators.createDefaultInstance()
                    .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                    .withObjectEntrySpacing(Separators.Spacing.AFTER)
                    .withArrayValueSpacing(Separators.Spacing.AFTER)
                    .withObjectEmptySeparator("")
                    .withArrayEmptySeparator(""))
            .withObjectIndenter(new DefaultIndenter("", ""))
            .withArrayIndenter(new DefaultIndenter("", "")));
    /** Debezium's ZonedTimestamp: ISO-8601 in UTC, with exactly the column's fractional digits. */
    private static final DateTimeFormatter[] ZONED = new DateTimeFormatter[7];
    /** Debezium's ZonedTime: ISO-8601 in UTC, with as many fractional digits as the value needs. */
    private static final DateTimeFormatter ZONED_TIME = DateTimeFormatter.ISO_OFFSET_TIME;

    static {
        for (int digits = 0; digits <= 6; digits++) {
            DateTimeFormatterBuilder format = new DateTimeFormatterBuilder().append(DateTimeFormatter.ISO_LOCAL_DATE).appendPattern("'T'HH:mm:ss");
            if (digits > 0) {
                format.appendFraction(ChronoField.NANO_OF_SECOND, digits, digits, true);
            }
            ZONED[digits] = format.appendOffsetId().toFormatter();
        }
    }

    private DebeziumValues() {
    }

    /** A row's values (or a key's), each typed by its column, in the table's column order as Debezium gives them. */
    static Map<String, Object> row(Map<String, Object> values, String table, ColumnTypes types) {
        if (values == null) {
            return null;
        }
        Map<String, ColumnTypes.Column> columns = types.of(table, values.keySet());
        Map<String, Object> out = new LinkedHashMap<>();
        columns.forEach((column, type) -> {
            if (values.containsKey(column)) {
                Object value = values.get(column);
                out.put(column, value == null ? null : value(value, type));
            }
        });
        values.forEach((column, value) -> out.putIfAbsent(column, value)); // a column the catalog no longer has: as captured
        return out;
    }

    static Object value(Object value, ColumnTypes.Column column) {
        if (column.array() && value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (Object element : list) {
                out.add(element == null || element instanceof List<?> ? element : scalar(element, column));
            }
            return out;
        }
        return scalar(value, column);
    }

    private static Object scalar(Object value, ColumnTypes.Column column) {
        try {
            return switch (column.kind()) {
                case DECIMAL -> decimal(value, column.scale());
                case LOCAL_TIMESTAMP -> localTimestamp(value.toString(), column.precision());
                case ZONED_TIMESTAMP -> OffsetDateTime.parse(value.toString().replace(' ', 'T')).withOffsetSameInstant(ZoneOffset.UTC)
                        .format(ZONED[digits(column)]);
                case DATE -> (int) LocalDate.parse(value.toString()).toEpochDay();
                case TIME -> time(value.toString(), column.precision());
                case ZONED_TIME -> OffsetTime.parse(fullOffset(value.toString())).withOffsetSameInstant(ZoneOffset.UTC).format(ZONED_TIME);
                case JSON -> JSONB_TEXT.writeValueAsString(value);
                case BYTES -> bytes(value.toString());
                case AS_IS -> value;
            };
        } catch (DateTimeParseException | IllegalArgumentException | ArithmeticException | JsonProcessingException e) {
            return value; // infinity, NaN and the like: no Debezium type can hold them the same way
        }
    }

    private static Object decimal(Object value, int scale) {
        BigDecimal number;
        if (value instanceof BigDecimal d) {
            number = d;
        } else if (value instanceof BigInteger i) {
            number = new BigDecimal(i);
        } else if (value instanceof Integer || value instanceof Long) {
            number = BigDecimal.valueOf(((Number) value).longValue());
        } else {
            number = new BigDecimal(value.toString()); // "NaN" throws, and passes unchanged
        }
        if (scale < 0) {
            Map<String, Object> variable = new LinkedHashMap<>();
            variable.put("scale", number.scale());
            variable.put("value", base64(number.unscaledValue().toByteArray()));
            return variable;
        }
        return base64(number.setScale(scale).unscaledValue().toByteArray());
    }

    private static long localTimestamp(String text, int precision) {
        Instant instant = LocalDateTime.parse(text.replace(' ', 'T')).toInstant(ZoneOffset.UTC);
        return precision <= 3 ? instant.toEpochMilli() : ChronoUnit.MICROS.between(Instant.EPOCH, instant);
    }

    /** timetz as to_jsonb writes it ({@code 10:11:12+02}) with the offset's minutes, as java.time reads it. */
    private static String fullOffset(String text) {
        return text.matches(".*[+-]\\d\\d") ? text + ":00" : text;
    }

    private static int digits(ColumnTypes.Column column) {
        return Math.max(0, Math.min(6, column.precision()));
    }

    private static Object time(String text, int precision) {
        long nanos = LocalTime.parse(text).toNanoOfDay();
        return precision <= 3 ? (Object) (int) (nanos / 1_000_000) : (Object) (nanos / 1_000);
    }

    /** bytea as to_jsonb writes it, {@code \x0102}, to base64. */
    private static String bytes(String text) {
        if (!text.startsWith("\\x")) {
            throw new IllegalArgumentException("not bytea hex");
        }
        return base64(HexFormat.of().parseHex(text, 2, text.length()));
    }

    private static String base64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }
}
