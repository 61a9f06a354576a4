package dev.epidemic.sink.redis;

import dev.epidemic.api.Change;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The stream a change is appended to, from a template over {@code {schema}}, {@code {table}} and {@code {op}}
 * (lower case: insert, update, delete, truncate, read). Every change of a row goes to the same stream as long
 * as {@code {op}} is not used, which is what keeps one row's changes in order for a reader of that stream.
 */
final class StreamKeyTemplate {
    static final String DEFAULT = "epidemic:{schema}.{table}";
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([^{}]*)}");

    private final String template;

    private StreamKeyTemplate(String template) {
        this.template = template;
    }

    /** The template, or the reason it is not one (an unknown placeholder, an empty template). */
    static String problem(String template) {
        if (template.isBlank()) {
            return "is empty; give a stream key such as " + DEFAULT + ", or leave the key out for that default";
        }
        Matcher m = PLACEHOLDER.matcher(template);
        while (m.find()) {
            String name = m.group(1);
            if (!name.equals("schema") && !name.equals("table") && !name.equals("op")) {
                return "'{" + name + "}' is not a placeholder; use {schema}, {table} and {op}";
            }
        }
        return null;
    }

    static StreamKeyTemplate of(String template) {
        return new StreamKeyTemplate(template);
    }

    String keyFor(Change change) {
        // As the Debezium format does, the schema ends at the first dot: table names with dots are rarer than schema names with them.
        int dot = change.table().indexOf('.');
        String schema = dot < 0 ? "" : change.table().substring(0, dot);
        String table = dot < 0 ? change.table() : change.table().substring(dot + 1);
        return template.replace("{schema}", schema).replace("{table}", table)
                .replace("{op}", change.operation().name().toLowerCase(Locale.ROOT));
    }

    @Override
    public String toString() {
        return template;
    }
}
