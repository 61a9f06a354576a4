package dev.epidemic.api;

/**
 * The kind of row change a {@link Change} records. {@code READ} is not a change but a row as it was when a
 * backfill read it (see {@code epidemic backfill}): applied like an INSERT or an UPDATE, its values become the row's.
 */
public enum Operation {
    INSERT, UPDATE, DELETE, TRUNCATE, READ
}
