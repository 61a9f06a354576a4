package dev.epidemic.dialect.mariadb;

import dev.epidemic.api.InvalidInputException;

import java.util.ArrayList;
import java.util.List;

/** The one place where MariaDB names are quoted for SQL text, and where user-given table names are parsed. */
final class Names {
    private Names() {
    }

    /** A backtick-quoted identifier, exactly as given: {@code a`b} becomes {@code `a``b`}. */
    static String quote(String name) {
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("identifier contains a NUL character");
        }
        return '`' + name.replace("`", "``") + '`';
    }

    /** A string literal: quotes and backslashes escaped, whatever sql_mode says about backslashes. */
    static String literal(String value) {
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("literal contains a NUL character");
        }
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    /** One part of a dotted name; {@code quoted} parts are matched exactly, others also case-insensitively. */
    record Part(String name, boolean quoted) {
    }

    /**
     * Splits {@code schema.table} or {@code table}; parts may be quoted with backticks or double quotes
     * (as the command line documents for PostgreSQL), a doubled quote standing for itself.
     */
    static List<Part> parse(String text) {
        if (text == null || text.isBlank()) {
            throw new InvalidInputException("table name is empty");
        }
        List<Part> parts = new ArrayList<>();
        String s = text.strip();
        int i = 0;
        while (true) {
            if (i >= s.length()) {
                throw invalid(text);
            }
            char c = s.charAt(i);
            if (c == '`' || c == '"') {
                StringBuilder sb = new StringBuilder();
                int j = i + 1;
                while (true) {
                    if (j >= s.length()) {
                        throw invalid(text);
                    }
                    if (s.charAt(j) == c) {
                        if (j + 1 < s.length() && s.charAt(j + 1) == c) {
                            sb.append(c);
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    sb.append(s.charAt(j++));
                }
                parts.add(new Part(sb.toString(), true));
                i = j + 1;
            } else {
                int dot = s.indexOf('.', i);
                int end = dot < 0 ? s.length() : dot;
                String name = s.substring(i, end);
                if (name.isEmpty() || name.contains("`") || name.contains("\"")) {
                    throw invalid(text);
                }
                parts.add(new Part(name, false));
                i = end;
            }
            if (i == s.length()) {
                break;
            }
            if (s.charAt(i) != '.') {
                throw invalid(text);
            }
            i++;
        }
        if (parts.size() > 2 || parts.stream().anyMatch(p -> p.name().isEmpty())) {
            throw invalid(text);
        }
        return parts;
    }

    private static InvalidInputException invalid(String text) {
        return new InvalidInputException("table " + text + " is not a valid table name; write TABLE or DATABASE.TABLE, quoting odd names with backticks");
    }
}
