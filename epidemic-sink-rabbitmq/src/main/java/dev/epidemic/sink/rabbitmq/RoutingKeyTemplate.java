package dev.epidemic.sink.rabbitmq;

import dev.epidemic.api.Change;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A routing key made from a template over a change's schema, table and operation: {@code {schema}.{table}.{op}}
 * gives {@code public.orders.insert}. The operation is lower-case, as in the {@code epidemic-op} header.
 */
final class RoutingKeyTemplate {
    static final String DEFAULT = "{schema}.{table}.{op}";
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([^}]*)}");

    private final String template;

    private RoutingKeyTemplate(String template) {
        this.template = template;
    }

    /** The template, or an exception naming the first placeholder that is not {@code schema}, {@code table} or {@code op}. */
    static RoutingKeyTemplate parse(String template) {
        Matcher m = PLACEHOLDER.matcher(template);
        while (m.find()) {
            String name = m.group(1);
            if (!name.equals("schema") && !name.equals("table") && !name.equals("op")) {
                throw new IllegalArgumentException("unknown placeholder {" + name + "} in '" + template + "'; use {schema}, {table} and {op}");
            }
        }
        return new RoutingKeyTemplate(template);
    }

    String keyFor(Change change) {
        // Epidemic's table names are schema.table, unquoted; a table without a schema has an empty one.
        int dot = change.table().indexOf('.');
        String schema = dot < 0 ? "" : change.table().substring(0, dot);
        String table = change.table().substring(dot + 1);
        return template.replace("{schema}", schema).replace("{table}", table).replace("{op}", op(change));
    }

    /** The operation as the {@code epidemic-op} header and the {@code {op}} placeholder write it. */
    static String op(Change change) {
        return change.operation().name().toLowerCase(Locale.ROOT);
    }
}
