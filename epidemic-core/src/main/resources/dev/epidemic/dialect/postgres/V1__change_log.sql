-- Epidemic's own schema, version 1. ${schema} is replaced by the quoted schema name.
-- Everything here is owned by the installing role; writers reach it only through the
-- SECURITY DEFINER capture functions, consumers need the grants listed in docs/security.md.

-- Which tables are watched, and which of their columns are captured.
CREATE TABLE ${schema}.watched_table (
    id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    relid         oid     NOT NULL UNIQUE,
    schema_name   text    NOT NULL,
    table_name    text    NOT NULL,
    key_columns   text[]  NOT NULL,
    columns       text[]  NOT NULL,
    active        boolean NOT NULL DEFAULT true,   -- false after unwatch: logged changes still name it
    installed_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (schema_name, table_name)
);

-- The change log. Positions are assigned from a sequence (so they order changes to one row),
-- but are read by transaction visibility, never by "id > last" (see DESIGN.md).
-- It is split into slots that are rotated and TRUNCATEd by prune, so it never bloats.
CREATE SEQUENCE ${schema}.change_id_seq AS bigint CACHE 1;

CREATE TABLE ${schema}.change_log (
    slot      smallint    NOT NULL,
    id        bigint      NOT NULL,
    txid      xid8        NOT NULL,
    table_id  integer     NOT NULL,
    op        "char"      NOT NULL,      -- I, U, D, T
    key       jsonb,
    old       jsonb,
    new       jsonb,
    at        timestamptz NOT NULL
) PARTITION BY LIST (slot);

CREATE TABLE ${schema}.change_log_0 PARTITION OF ${schema}.change_log FOR VALUES IN (0);
CREATE TABLE ${schema}.change_log_1 PARTITION OF ${schema}.change_log FOR VALUES IN (1);
CREATE TABLE ${schema}.change_log_2 PARTITION OF ${schema}.change_log FOR VALUES IN (2);
CREATE INDEX ON ${schema}.change_log (txid);

-- One row: the slot writers append to.
CREATE TABLE ${schema}.log_state (
    singleton      boolean  PRIMARY KEY DEFAULT true CHECK (singleton),
    current_slot   smallint NOT NULL DEFAULT 0
);
INSERT INTO ${schema}.log_state DEFAULT VALUES;

-- Dispatchers that are idle and want a NOTIFY, with the backend that LISTENs for them. Writers only
-- read this table (no lock is ever taken by a writer); it is empty while every dispatcher is busy.
CREATE TABLE ${schema}.waiting (
    consumer   text    PRIMARY KEY,
    pid        integer NOT NULL
);

-- Each consumer's durable position: every transaction visible in "delivered" was delivered.
-- While a window (delivered, window_snapshot] is being delivered, (after_tx_last_id, after_id)
-- is the last change of it that was handled, in delivery order.
CREATE TABLE ${schema}.consumer (
    name              text        PRIMARY KEY,
    delivered         pg_snapshot NOT NULL,
    window_snapshot   pg_snapshot,
    after_tx_last_id  bigint,
    after_id          bigint,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
