package dev.epidemic.cli;

import dev.epidemic.api.Change;

import java.util.Map;
import java.util.Objects;
import java.util.StringJoiner;

/**
 * One change as a line a person reads, for the demo: an INSERT shows the new values, an UPDATE only the
 * columns that changed ({@code quota_bytes 1000 → 2000}), a DELETE the values the row had.
 */
final class ChangeLine {
    private ChangeLine() {
    }

    static String describe(Change change) {
        String head = "#" + change.id() + " " + change.operation() + " " + change.table() + " " + values(change.key());
        return switch (change.operation()) {
            case INSERT, READ -> head + ": " + values(change.newValues());
            case UPDATE -> head + ": " + differences(change.oldValues(), change.newValues());
            case DELETE -> head + " (was " + values(change.oldValues()) + ")";
            case TRUNCATE -> head;
        };
    }

    private static String values(Map<String, Object> values) {
        if (values == null) {
            return "";
        }
        StringJoiner joined = new StringJoiner(" ");
        values.forEach((column, value) -> joined.add(column + "=" + render(value)));
        return joined.toString();
    }

    private static String differences(Map<String, Object> before, Map<String, Object> after) {
        StringJoiner joined = new StringJoiner(", ");
        after.forEach((column, value) -> {
            Object old = before == null ? null : before.get(column);
            if (!Objects.equals(old, value)) {
                joined.add(column + " " + render(old) + " → " + render(value));
            }
        });
        return joined.length() == 0 ? "no watched column changed" : joined.toString();
    }

    private static String render(Object value) {
        return value instanceof String text ? "'" + text + "'" : String.valueOf(value);
    }
}
