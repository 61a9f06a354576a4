package dev.epidemic.dialect;

import dev.epidemic.api.InvalidInputException;

/**
 * A row filter given by a user ({@code --where}): one SQL condition over a table's columns, placed in
 * parentheses inside Epidemic's own statements. This check keeps it from reaching outside them; whether it
 * is a valid condition on the table is the server's to say (each dialect asks it before anything changes).
 */
public final class RowFilter {
    private RowFilter() {
    }

    /**
     * Refuses a condition that could end or comment out the statement around it: a semicolon, a comment,
     * a dollar quote or a parenthesis closed before it was opened, outside string literals and quoted
     * identifiers. Returns the condition, trimmed; null stays null (every row).
     */
    public static String check(String where, String table) {
        if (where == null) {
            return null;
        }
        String condition = where.strip();
        if (condition.isEmpty()) {
            throw new InvalidInputException("--where for " + table + " is empty");
        }
        int depth = 0;
        char quote = 0; // the quote character of the literal or identifier we are inside, 0 outside
        for (int i = 0; i < condition.length(); i++) {
            char ch = condition.charAt(i);
            char next = i + 1 < condition.length() ? condition.charAt(i + 1) : 0;
            if (quote != 0) {
                if (ch == '\\' && quote != '"') {
                    i++; // a backslash escape (MariaDB's strings, PostgreSQL's E'...'): the next character is literal
                } else if (ch == quote) {
                    if (next == quote) {
                        i++; // a doubled quote stands for itself
                    } else {
                        quote = 0;
                    }
                }
                continue;
            }
            switch (ch) {
                case '\'', '"', '`' -> quote = ch;
                case '(' -> depth++;
                case ')' -> {
                    if (--depth < 0) {
                        throw refused(table, "a ')' closes a parenthesis it did not open");
                    }
                }
                case ';' -> throw refused(table, "it contains ';'");
                case '#' -> throw refused(table, "it contains '#', a comment on MariaDB");
                case '$' -> throw refused(table, "it contains '$'");
                case '\0' -> throw refused(table, "it contains a NUL character");
                case '-' -> {
                    if (next == '-') {
                        throw refused(table, "it contains a comment (--)");
                    }
                }
                case '/' -> {
                    if (next == '*') {
                        throw refused(table, "it contains a comment (/*)");
                    }
                }
                default -> {
                }
            }
        }
        if (quote != 0) {
            throw refused(table, "a quote (" + quote + ") is not closed");
        }
        if (depth != 0) {
            throw refused(table, "a parenthesis is not closed");
        }
        return condition;
    }

    /**
     * The {@code --where} option that states a table-wide filter again in a command a user is told to run,
     * quoted for a POSIX shell; empty for none.
     */
    public static String option(String where) {
        return where == null ? "" : " --where '" + where.replace("'", "'\\''") + "'";
    }

    private static InvalidInputException refused(String table, String why) {
        return new InvalidInputException("--where for " + table + " is not a single condition: " + why);
    }
}
