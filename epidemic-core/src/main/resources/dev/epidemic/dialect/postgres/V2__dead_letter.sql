-- Epidemic's own schema, version 2: changes a handler kept failing on.
-- A dead letter keeps the change itself (the log row may be pruned meanwhile), the last error, and how
-- often and when it failed. One row per consumer, handler and change: a dispatcher that crashed after
-- writing it and retried the change updates the same row.
CREATE TABLE ${schema}.dead_letter (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consumer          text        NOT NULL,
    handler           text        NOT NULL,
    change_id         bigint      NOT NULL,
    txid              bigint      NOT NULL,
    table_name        text        NOT NULL,
    op                "char"      NOT NULL,
    key               jsonb,
    old               jsonb,
    new               jsonb,
    at                timestamptz NOT NULL,
    error             text        NOT NULL,
    attempts          integer     NOT NULL,
    first_failure     timestamptz NOT NULL,
    last_failure      timestamptz NOT NULL,
    replay_requested  boolean     NOT NULL DEFAULT false,
    UNIQUE (consumer, handler, change_id)
);
CREATE INDEX ON ${schema}.dead_letter (consumer) WHERE replay_requested;
