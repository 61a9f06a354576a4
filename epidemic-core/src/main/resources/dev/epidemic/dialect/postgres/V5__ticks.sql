-- Epidemic's own schema, version 5: ticks. ${schema} is the quoted schema name.
--
-- A consumer far behind (new on a long log, back after a stop, behind a big backfill) would read one
-- window holding its whole backlog, and the window is ordered whole before its first change is handed
-- over. Ticks cut it: as changes are logged, every TICK_EVERY (4096) ids the writer that crosses the mark
-- records its snapshot, the same kind of cut a reader takes (PgQ's ticks, recorded by writers rather than
-- by a ticker daemon). A reader far behind ends its window at a tick instead of at the present, so each
-- window holds a few thousand changes. A tick is a real snapshot, so windows cut at ticks keep every
-- guarantee of windows cut at the present.

CREATE TABLE ${schema}.tick (
    snap_xmax xid8       NOT NULL,   -- pg_snapshot_xmax(snap): later ticks have larger ones
    snap     pg_snapshot NOT NULL,
    last_id  bigint      NOT NULL    -- the last log id the recording session had taken: the changes before it
);
CREATE INDEX ON ${schema}.tick (snap_xmax);

-- Records the caller's snapshot as a tick. The caller is a transaction that has just logged changes and
-- is still running: PostgreSQL leaves a transaction's own id out of its snapshot, so it is added, or the
-- tick would count the recording transaction as committed and its later changes (which may follow
-- changes committed after the tick) would be delivered before them.
CREATE FUNCTION ${schema}.log_tick(p_last_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    snap pg_snapshot := pg_catalog.pg_current_snapshot();
    me xid8 := pg_catalog.pg_current_xact_id_if_assigned();
BEGIN
    IF me IS NOT NULL AND pg_catalog.pg_visible_in_snapshot(me, snap) THEN
        snap := (LEAST(pg_catalog.pg_snapshot_xmin(snap), me)::text || ':' || pg_catalog.pg_snapshot_xmax(snap)::text || ':'
                 || pg_catalog.array_to_string(ARRAY(SELECT ids.x FROM (SELECT pg_catalog.pg_snapshot_xip(snap) AS x UNION SELECT me) ids
                                                     ORDER BY ids.x), ','))::pg_catalog.pg_snapshot;
    END IF;
    INSERT INTO ${schema}.tick (snap_xmax, snap, last_id) VALUES (pg_catalog.pg_snapshot_xmax(snap), snap, p_last_id);
END
$fn$;
REVOKE ALL ON FUNCTION ${schema}.log_tick(bigint) FROM PUBLIC;

-- The statements of a capture function that append rows to the current slot's partition (one branch per
-- slot), followed by the tick check: the statement's last id crossed a multiple of 4096 (missing one
-- when concurrent statements interleave their ids only makes a window larger). The check costs a
-- ROW_COUNT and a currval per statement; nextval has certainly run when a row was logged.
CREATE OR REPLACE FUNCTION ${schema}.into_slots(p_rows text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT E'    DECLARE\n      logged bigint;\n    BEGIN\n'
           || string_agg(CASE WHEN slot = 0 THEN '    IF' ELSE '    ELSIF' END || ' slot = ' || slot || E' THEN\n'
                         || '      INSERT INTO ' || quote_ident(${schema_literal}) || '.change_log_' || slot
                         || ' (slot, txid, table_id, op, key, old, new, at, id) SELECT ' || slot || ', rows.*, nextval('
                         || quote_literal(quote_ident(${schema_literal}) || '.change_id_seq') || '::regclass) FROM (' || p_rows || E') rows;\n',
                         '' ORDER BY slot) || E'    END IF;\n'
           || E'    GET DIAGNOSTICS logged = ROW_COUNT;\n'
           || E'    IF logged > 0 THEN\n'
           || '      IF pg_catalog.currval(' || quote_literal(quote_ident(${schema_literal}) || '.change_id_seq') || E'::regclass) % 4096 < logged THEN\n'
           || '        PERFORM ' || quote_ident(${schema_literal}) || '.log_tick(pg_catalog.currval('
           || quote_literal(quote_ident(${schema_literal}) || '.change_id_seq') || E'::regclass));\n'
           || E'      END IF;\n    END IF;\n    END;\n'
      FROM generate_series(0, 2) slot
$fn$;
REVOKE ALL ON FUNCTION ${schema}.into_slots(text) FROM PUBLIC;

-- Every capture function is generated again, with the tick check.
DO $upgrade$
DECLARE
    w record;
BEGIN
    FOR w IN SELECT t.id FROM ${schema}.watched_table t JOIN pg_catalog.pg_class c ON c.oid = t.relid WHERE t.active AND t.capture_version >= 2 LOOP
        BEGIN
            PERFORM ${schema}.install_capture(w.id);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'Epidemic: capture of table % records no ticks: %', w.id, SQLERRM;
        END;
    END LOOP;
END
$upgrade$;
