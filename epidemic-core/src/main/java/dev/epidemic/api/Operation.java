package dev.epidemic.api;

/** The kind of row change a {@link Change} records. */
public enum Operation {
    INSERT, UPDATE, DELETE, TRUNCATE
}
