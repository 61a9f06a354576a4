-- Epidemic's own schema, version 4: backfills. ${schema} is the quoted schema name.
--
-- A backfill logs the rows a table already holds as READ changes ('R'), in chunks, each in a transaction
-- of its own. Its READs go only to its targets: a log row with a backfill_id is delivered to the
-- consumers listed for it in backfill_target, and to nobody else.

ALTER TABLE ${schema}.change_log ADD COLUMN backfill_id integer;   -- NULL for every change a trigger logged

CREATE TABLE ${schema}.backfill (
    id             integer     GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_id       integer     NOT NULL,          -- watched_table.id
    row_filter     text,                          -- the --where condition; NULL: every row
    requested      text[],                        -- the consumers named when it started, sorted; NULL: every consumer then
    started_by     text,                          -- the new consumer that started it from a snapshot (and runs it); NULL: a command
    after_key      text[],                        -- the key of the last row logged, in key order; NULL before the first chunk
    rows_done      bigint      NOT NULL DEFAULT 0,
    rows_estimate  bigint,                        -- the planner's estimate when it started
    started_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz
);

-- The consumers that receive a backfill's READs.
CREATE TABLE ${schema}.backfill_target (
    backfill_id  integer NOT NULL REFERENCES ${schema}.backfill (id) ON DELETE CASCADE,
    consumer     text    NOT NULL,
    PRIMARY KEY (consumer, backfill_id)
);
