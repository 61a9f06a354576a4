package dev.epidemic.sink.nats.internal;

import dev.epidemic.api.Change;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A subject with the placeholders {@code {schema}}, {@code {table}} and {@code {op}}, filled from a change.
 * A name can hold characters that a NATS subject token cannot ({@code .}, {@code *}, {@code >}, white space):
 * each becomes {@code _}, so a table's subject stays one token and never turns into a wildcard.
 */
public final class SubjectTemplate {
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([^{}]*)}");
    private static final List<String> NAMES = List.of("schema", "table", "op");

    private final String template;

    private SubjectTemplate(String template) {
        this.template = template;
    }

    /** The template, or throws {@link IllegalArgumentException} with a one-line reason. */
    public static SubjectTemplate of(String template) {
        String problem = problem(template);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return new SubjectTemplate(template);
    }

    /** Why {@code template} is not a usable subject template, or null when it is. */
    public static String problem(String template) {
        if (template == null || template.isBlank()) {
            return "is empty; give a subject such as epidemic.{schema}.{table}.{op}";
        }
        Matcher m = PLACEHOLDER.matcher(template);
        while (m.find()) {
            if (!NAMES.contains(m.group(1))) {
                return "'" + template + "' has the unknown placeholder {" + m.group(1) + "}; use {schema}, {table} and {op}";
            }
        }
        String literal = PLACEHOLDER.matcher(template).replaceAll("x");
        if (literal.indexOf('{') >= 0 || literal.indexOf('}') >= 0) {
            return "'" + template + "' has an unmatched brace";
        }
        for (String token : literal.split("\\.", -1)) {
            if (token.isEmpty()) {
                return "'" + template + "' has an empty token; NATS subjects are tokens separated by single dots";
            }
            if (token.equals("*") || token.equals(">")) {
                return "'" + template + "' has the wildcard " + token + "; a message is published to one subject";
            }
            if (token.chars().anyMatch(Character::isWhitespace)) {
                return "'" + template + "' has white space; NATS subjects cannot";
            }
        }
        return null;
    }

    /** The subject of one change. */
    public String subjectOf(Change change) {
        int dot = change.table().indexOf('.');
        String schema = dot < 0 ? "" : change.table().substring(0, dot);
        String table = dot < 0 ? change.table() : change.table().substring(dot + 1);
        String op = change.operation().name().toLowerCase(Locale.ROOT);
        Matcher m = PLACEHOLDER.matcher(template);
        StringBuilder subject = new StringBuilder();
        while (m.find()) {
            String value = switch (m.group(1)) {
                case "schema" -> token(schema);
                case "table" -> token(table);
                default -> op;
            };
            m.appendReplacement(subject, Matcher.quoteReplacement(value));
        }
        m.appendTail(subject);
        return subject.toString();
    }

    /** The subject filter that covers every subject of the template: each token with a placeholder is {@code *}. */
    public String wildcard() {
        List<String> tokens = new ArrayList<>();
        for (String token : template.split("\\.", -1)) {
            tokens.add(PLACEHOLDER.matcher(token).find() ? "*" : token);
        }
        return String.join(".", tokens);
    }

    @Override
    public String toString() {
        return template;
    }

    private static String token(String name) {
        if (name.isEmpty()) {
            return "_";
        }
        StringBuilder token = new StringBuilder(name.length());
        name.codePoints().forEach(c -> token.appendCodePoint(c == '.' || c == '*' || c == '>' || Character.isWhitespace(c) ? '_' : c));
        return token.toString();
    }

    /** Whether {@code subject} is matched by the stream subject {@code filter}, with NATS's {@code *} and {@code >}. */
    public static boolean matches(String filter, String subject) {
        String[] f = filter.split("\\.", -1);
        String[] s = subject.split("\\.", -1);
        for (int i = 0; i < f.length; i++) {
            if (f[i].equals(">")) {
                return s.length > i;
            }
            if (i >= s.length || !(f[i].equals("*") || f[i].equals(s[i]))) {
                return false;
            }
        }
        return f.length == s.length;
    }
}
