package dev.epidemic.dialect;

/** The one place where names and literals are made safe to put into SQL text. */
public final class SqlText {
    private SqlText() {
    }

    /** A double-quoted identifier, exactly as given: {@code a"b} becomes {@code "a""b"}. */
    public static String quoteIdent(String name) {
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("identifier contains a NUL character");
        }
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    /** An escape-string literal, correct whatever standard_conforming_strings says. */
    public static String quoteLiteral(String value) {
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("literal contains a NUL character");
        }
        return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    /** A dollar-quote tag that does not occur in {@code body}, so the body cannot end the quote. */
    public static String dollarTag(String body) {
        String tag = "$epidemic$";
        for (int i = 0; body.contains(tag); i++) {
            tag = "$epidemic" + i + "$";
        }
        return tag;
    }
}
