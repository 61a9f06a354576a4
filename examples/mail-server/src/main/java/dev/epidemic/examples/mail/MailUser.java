package dev.epidemic.examples.mail;

import java.math.BigInteger;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The columns of one {@code mail_users} row that decide what is on disk, checked so that they can be
 * used as path names: {@code gid} and {@code username} name the mailbox directory, {@code quota_bytes}
 * and {@code dba} go into files inside it.
 *
 * @param gid        the Unix group of the mailbox, a non-negative number: {@code <root>/<gid>/}
 * @param username   a single, safe path component (see {@link #SAFE_NAME})
 * @param dba        the name the account does business as; any text, or null
 * @param quotaBytes the quota in bytes, or null for none
 */
public record MailUser(long gid, String username, String dba, Long quotaBytes) {
    /**
     * Letters, digits and {@code . _ + - @}, starting with a letter or digit: enough for local parts and
     * full addresses, and never {@code ..}, a slash, a backslash, a NUL or a hidden name.
     */
    public static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+@-]{0,254}");

    /**
     * The user a change's values describe.
     *
     * @param key    the row's primary key, to name the row in errors
     * @param values the watched columns (a change's old or new values)
     * @throws RefusedRowException when the values cannot safely name a mailbox
     */
    public static MailUser from(Map<String, Object> key, Map<String, Object> values) throws RefusedRowException {
        if (values == null) {
            throw new RefusedRowException("mail_users row " + key + ": no values were captured; is the table watched with gid, dba, username and quota_bytes?");
        }
        Long gid = number(key, values, "gid");
        if (gid == null || gid < 0) {
            throw new RefusedRowException("mail_users row " + key + ": gid must be a number of 0 or more, not " + gid);
        }
        Object name = values.get("username");
        if (!(name instanceof String username) || !SAFE_NAME.matcher(username).matches()) {
            throw new RefusedRowException("mail_users row " + key + ": username " + quote(name)
                    + " is not a safe mailbox name (1 to 255 of letters, digits, '.', '_', '+', '-', '@', starting with a letter or digit)");
        }
        Long quota = number(key, values, "quota_bytes");
        if (quota != null && quota < 0) {
            throw new RefusedRowException("mail_users row " + key + ": quota_bytes must be 0 or more, or null for no quota, not " + quota);
        }
        Object dba = values.get("dba");
        return new MailUser(gid, username, dba == null ? null : dba.toString(), quota);
    }

    private static Long number(Map<String, Object> key, Map<String, Object> values, String column) throws RefusedRowException {
        Object value = values.get(column);
        if (value == null) {
            return null;
        }
        if (value instanceof Integer || value instanceof Long) {
            return ((Number) value).longValue();
        }
        if (value instanceof BigInteger big && big.bitLength() < 64) {
            return big.longValue();
        }
        throw new RefusedRowException("mail_users row " + key + ": " + column + " must be a whole number, not " + quote(value));
    }

    private static String quote(Object value) {
        return value == null ? "null" : "'" + value + "'";
    }
}
