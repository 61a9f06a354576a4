-- The mail server's accounts. Epidemic's mail-server handler watches gid, dba, username and
-- quota_bytes; the other columns (password, logins) change often and never touch the disk.
CREATE TABLE mail_users (
    id            serial PRIMARY KEY,
    gid           integer NOT NULL,          -- the Unix group the mailbox belongs to: <root>/<gid>/<username>
    dba           text,                      -- "doing business as": the name shown for the account
    username      text NOT NULL UNIQUE,
    quota_bytes   bigint,                    -- NULL: no quota
    password_hash text,
    last_login    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
