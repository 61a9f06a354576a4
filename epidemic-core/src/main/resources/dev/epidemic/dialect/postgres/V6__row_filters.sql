-- Epidemic's own schema, version 6: row filters (docs/row-filters.md). ${schema} is the quoted schema name,
-- ${schema_literal} the same name as a string literal.
--
-- A row filter is a condition over a watched table's own columns. Filters are registered by `watch --where`
-- (registrant '', the table-wide filter) and by consumers (registrant: the consumer's name; predicate '' for
-- a handler without a filter). Each distinct condition of a table is one filter with a bit 0..62; the
-- capture trigger logs a row only if some filter matches it (the old or the new row of an UPDATE), with the
-- mask of the filters that matched, and the dispatcher hands a change to a filtered handler only if its
-- bit is set. A table without filters is captured exactly as before, with a NULL mask.

ALTER TABLE ${schema}.change_log ADD COLUMN filter_mask bigint;   -- NULL: logged for every reader

ALTER TABLE ${schema}.watched_table
    ADD COLUMN next_filter_bit smallint NOT NULL DEFAULT 0;   -- where the search for a free bit starts: a bit is reused last

-- Who asked for which filter on which table.
CREATE TABLE ${schema}.row_filter_registration (
    table_id       integer NOT NULL REFERENCES ${schema}.watched_table (id) ON DELETE CASCADE,
    registrant     text    NOT NULL,   -- '': `watch --where`, the table-wide filter; else a consumer
    predicate      text    NOT NULL,   -- '': a consumer's handler without a filter (every row)
    registered_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (table_id, registrant, predicate)
);

-- The filters a table's capture evaluates, each with its bit in change_log.filter_mask.
CREATE TABLE ${schema}.row_filter (
    table_id   integer  NOT NULL REFERENCES ${schema}.watched_table (id) ON DELETE CASCADE,
    predicate  text     NOT NULL,
    bit        smallint NOT NULL CHECK (bit BETWEEN 0 AND 62),
    PRIMARY KEY (table_id, predicate),
    UNIQUE (table_id, bit)
);

-- Brings a table's filters in line with what is registered: one filter per distinct condition; a handler
-- without a filter beside filtered ones adds the filter "true" (it must not lose rows), unless the table
-- has a table-wide filter, which then says what is logged at all. A filter that is kept keeps its bit; a
-- new one takes the next free bit after the last one given, so a bit freed by a dropped filter (whose
-- rows may still be in the log) is given again as late as possible.
CREATE FUNCTION ${schema}.sync_filters(p_id integer) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    wanted text[];
    p text;
    b integer;
    nb integer;
BEGIN
    -- One change of a table's filters at a time (two consumers starting together; RowFilters.replace took
    -- this lock already): the second waits until the first commits, and regenerates capture after it.
    SELECT w.next_filter_bit INTO nb FROM ${schema}.watched_table w WHERE w.id = p_id FOR UPDATE;
    SELECT coalesce(array_agg(DISTINCT r.predicate) FILTER (WHERE r.predicate <> ''), '{}') INTO wanted
      FROM ${schema}.row_filter_registration r WHERE r.table_id = p_id;
    IF cardinality(wanted) > 0 AND NOT 'true' = ANY (wanted)
       AND EXISTS (SELECT 1 FROM ${schema}.row_filter_registration r WHERE r.table_id = p_id AND r.predicate = '')
       AND NOT EXISTS (SELECT 1 FROM ${schema}.row_filter_registration r WHERE r.table_id = p_id AND r.registrant = '') THEN
        wanted := wanted || 'true'::text;
    END IF;
    IF cardinality(wanted) > 63 THEN
        RAISE EXCEPTION USING ERRCODE = 'program_limit_exceeded',
            MESSAGE = 'a table can have at most 63 distinct row filters, not ' || cardinality(wanted);
    END IF;
    DELETE FROM ${schema}.row_filter f WHERE f.table_id = p_id AND f.predicate <> ALL (wanted);
    FOREACH p IN ARRAY wanted LOOP
        IF NOT EXISTS (SELECT 1 FROM ${schema}.row_filter f WHERE f.table_id = p_id AND f.predicate = p) THEN
            SELECT (nb + g.i) % 63 INTO b FROM generate_series(0, 62) g(i)
             WHERE NOT EXISTS (SELECT 1 FROM ${schema}.row_filter f WHERE f.table_id = p_id AND f.bit = (nb + g.i) % 63)
             ORDER BY g.i LIMIT 1;
            INSERT INTO ${schema}.row_filter (table_id, predicate, bit) VALUES (p_id, p, b);
            nb := (b + 1) % 63;
        END IF;
    END LOOP;
    UPDATE ${schema}.watched_table SET next_filter_bit = nb WHERE id = p_id;
END
$fn$;

-- SQL text of the bigint mask of a table's filters over its row r, or NULL when it has none. The
-- conditions were checked when they were registered (RowFilters.java: only the table's columns, constants
-- and built-in functions that are not volatile); a condition that a later schema change made invalid (a
-- column it names was dropped or renamed) counts as "true", so that capture never fails a writer and never
-- loses a row; `epidemic list` names it.
CREATE FUNCTION ${schema}.mask_sql(p_id integer, p_rel text) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    f record;
    parts text[] := '{}';
    cond text;
BEGIN
    FOR f IN SELECT rf.predicate, rf.bit FROM ${schema}.row_filter rf WHERE rf.table_id = p_id ORDER BY rf.bit LOOP
        cond := f.predicate;
        BEGIN
            EXECUTE 'SELECT 1 FROM ONLY ' || p_rel || ' r WHERE (' || cond || ') LIMIT 0';
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'Epidemic: row filter (%) of % is no longer valid (%); it selects every row until it is registered again',
                cond, p_rel, SQLERRM;
            cond := 'true';
        END;
        parts := parts || ('CASE WHEN (' || cond || ') THEN ' || (1::bigint << f.bit) || '::bigint ELSE 0::bigint END');
    END LOOP;
    RETURN CASE WHEN cardinality(parts) = 0 THEN NULL ELSE '(' || array_to_string(parts, ' | ') || ')' END;
END
$fn$;

-- As into_slots(text), for rows that end in their filter mask.
CREATE FUNCTION ${schema}.into_slots(p_rows text, p_masked boolean) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT CASE WHEN p_masked
                THEN replace(${schema}.into_slots(p_rows), ' (slot, txid, table_id, op, key, old, new, at, id) ',
                             ' (slot, txid, table_id, op, key, old, new, at, filter_mask, id) ')
                ELSE ${schema}.into_slots(p_rows) END
$fn$;

-- install_capture of V3, with row filters (V5 changed only into_slots, which both branches call).
CREATE OR REPLACE FUNCTION ${schema}.install_capture(p_id integer) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    s constant text := quote_ident(${schema_literal});
    w ${schema}.watched_table;
    kind "char";
    rel text;
    keys text[];        -- the key columns' names
    names text[];       -- the captured columns' names; NULL: every column
    fn text := s || '.' || quote_ident('capture_' || p_id);
    guard text := s || '.' || quote_ident('guard_truncate_' || p_id);
    body text;
    rows_insert text;
    rows_delete text;
    rows_update text;
    row_key_changed text;
    row_moved_in text;
    row_update text;
    rows_truncate text;
    row_changed text;   -- the WHEN clause of the row-level UPDATE trigger
    part record;
    tg record;
    tag text := '$capture$';
    mask text;          -- the SQL of the row filters' mask over the row r; NULL: the table has no filter
    masked text;        -- ', x.m' and the like when filtered, else ''
BEGIN
    PERFORM ${schema}.refresh_registration(p_id);
    SELECT * INTO w FROM ${schema}.watched_table WHERE id = p_id AND active;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT c.relkind INTO kind FROM pg_catalog.pg_class c WHERE c.oid = w.relid;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    rel := w.relid::regclass::text;
    keys := ${schema}.column_names(w.relid, w.key_attnums);
    names := CASE WHEN w.column_attnums IS NULL THEN NULL ELSE ${schema}.column_names(w.relid, w.column_attnums) END;
    mask := ${schema}.mask_sql(p_id, rel);

    -- Each part lists, for the log insert, the columns after slot and before id (see into_slots).
    -- With row filters (V6) each row carries the mask of the filters it matches (old or new row, for an
    -- UPDATE), and a row that matches none is not logged at all.
    masked := CASE WHEN mask IS NULL THEN '' ELSE ', x.m' END;
    rows_insert := format('SELECT pg_current_xact_id(), %s, ''I''::"char", %s, NULL::jsonb, %s, statement_timestamp()%s'
        || ' FROM (SELECT to_jsonb(r) AS j%s FROM epidemic_inserted r) x%s',
        p_id, ${schema}.pick_sql('x.j', keys), ${schema}.pick_sql('x.j', names), masked,
        CASE WHEN mask IS NULL THEN '' ELSE ', ' || mask || ' AS m' END, CASE WHEN mask IS NULL THEN '' ELSE ' WHERE x.m <> 0' END);
    rows_delete := format('SELECT pg_current_xact_id(), %s, ''D''::"char", %s, %s, NULL::jsonb, statement_timestamp()%s'
        || ' FROM (SELECT to_jsonb(r) AS j%s FROM epidemic_deleted r) x%s',
        p_id, ${schema}.pick_sql('x.j', keys), ${schema}.pick_sql('x.j', names), masked,
        CASE WHEN mask IS NULL THEN '' ELSE ', ' || mask || ' AS m' END, CASE WHEN mask IS NULL THEN '' ELSE ' WHERE x.m <> 0' END);
    -- Old and new rows of an UPDATE are paired by their place in the transition tables, which PostgreSQL
    -- fills in step (a row moved to another partition too): unnest of the two arrays zips them in one pass,
    -- with no join whose plan (cached for one size of statement) could go quadratic for another. A row
    -- whose key changed is a DELETE of the old key and an INSERT of the new one; all such DELETEs come
    -- first, so keys swapped by one statement apply in any replica. A row whose captured columns did not
    -- change is not logged.
    IF mask IS NULL THEN
        rows_update := format('SELECT pg_current_xact_id(), %s, c.op, c.key, c.old, c.new, statement_timestamp() FROM ('
            || 'WITH p AS (SELECT %s AS ok, %s AS nk, %s AS ov, %s AS nv'
            || ' FROM unnest((SELECT array_agg(to_jsonb(r)) FROM epidemic_old r), (SELECT array_agg(to_jsonb(r)) FROM epidemic_new r)) AS z(o, n))'
            || ' SELECT ''D''::"char" AS op, p.ok AS key, p.ov AS old, NULL::jsonb AS new FROM p WHERE p.ok IS DISTINCT FROM p.nk'
            || ' UNION ALL SELECT ''I''::"char", p.nk, NULL::jsonb, p.nv FROM p WHERE p.ok IS DISTINCT FROM p.nk'
            || ' UNION ALL SELECT ''U''::"char", p.nk, p.ov, p.nv FROM p WHERE p.ok IS NOT DISTINCT FROM p.nk AND p.ov IS DISTINCT FROM p.nv) c',
            p_id, ${schema}.pick_sql('z.o', keys), ${schema}.pick_sql('z.n', keys),
            ${schema}.pick_sql('z.o', names), ${schema}.pick_sql('z.n', names));
    ELSE
        -- The masks of the old and the new rows are zipped in the same pass as the rows themselves.
        rows_update := format('SELECT pg_current_xact_id(), %s, c.op, c.key, c.old, c.new, statement_timestamp(), c.m FROM ('
            || 'WITH p AS (SELECT %s AS ok, %s AS nk, %s AS ov, %s AS nv, z.om | z.nm AS m'
            || ' FROM unnest((SELECT array_agg(to_jsonb(r)) FROM epidemic_old r), (SELECT array_agg(to_jsonb(r)) FROM epidemic_new r),'
            || ' (SELECT array_agg(%s) FROM epidemic_old r), (SELECT array_agg(%s) FROM epidemic_new r)) AS z(o, n, om, nm)'
            || ' WHERE z.om | z.nm <> 0)'
            || ' SELECT ''D''::"char" AS op, p.ok AS key, p.ov AS old, NULL::jsonb AS new, p.m FROM p WHERE p.ok IS DISTINCT FROM p.nk'
            || ' UNION ALL SELECT ''I''::"char", p.nk, NULL::jsonb, p.nv, p.m FROM p WHERE p.ok IS DISTINCT FROM p.nk'
            || ' UNION ALL SELECT ''U''::"char", p.nk, p.ov, p.nv, p.m FROM p WHERE p.ok IS NOT DISTINCT FROM p.nk AND p.ov IS DISTINCT FROM p.nv) c',
            p_id, ${schema}.pick_sql('z.o', keys), ${schema}.pick_sql('z.n', keys),
            ${schema}.pick_sql('z.o', names), ${schema}.pick_sql('z.n', names), mask, mask);
    END IF;
    -- The row-level UPDATE trigger of a table that is not partitioned: its WHEN clause (which names no
    -- column, so no DDL depends on it) already skipped rows whose captured columns and key are unchanged.
    masked := CASE WHEN mask IS NULL THEN '' ELSE ', epidemic_mask' END;
    row_key_changed := format('SELECT pg_current_xact_id(), %s, ''D''::"char", %s, %s, NULL::jsonb, statement_timestamp()%s',
        p_id, ${schema}.pick_sql('o', keys), ${schema}.pick_sql('o', names), masked);
    row_moved_in := format('SELECT pg_current_xact_id(), %s, ''I''::"char", %s, NULL::jsonb, %s, statement_timestamp()%s',
        p_id, ${schema}.pick_sql('n', keys), ${schema}.pick_sql('n', names), masked);
    row_update := format('SELECT pg_current_xact_id(), %s, ''U''::"char", %s, %s, %s, statement_timestamp()%s',
        p_id, ${schema}.pick_sql('n', keys), ${schema}.pick_sql('o', names), ${schema}.pick_sql('n', names), masked);
    row_changed := CASE WHEN names IS NULL THEN 'OLD.* *<> NEW.*'  -- record image: any type, even without equality
                        ELSE ${schema}.pick_sql('to_jsonb(OLD)', keys || names) || ' IS DISTINCT FROM '
                             || ${schema}.pick_sql('to_jsonb(NEW)', keys || names) END;
    rows_truncate := format('SELECT pg_current_xact_id(), %s, ''T''::"char", NULL::jsonb, NULL::jsonb, NULL::jsonb, statement_timestamp()', p_id);

    IF mask IS NULL THEN
        -- A table without filters: the capture of V3, statement for statement.
        body := E'\nDECLARE\n  slot smallint;\n  wake boolean;\n  o jsonb;\n  n jsonb;\nBEGIN\n'
            || '  SELECT st.current_slot, EXISTS (SELECT 1 FROM ' || s || '.waiting) INTO slot, wake FROM ' || s || E'.log_state st;\n'
            || E'  IF TG_OP = ''INSERT'' THEN\n' || ${schema}.into_slots(rows_insert)
            || E'  ELSIF TG_OP = ''UPDATE'' AND TG_LEVEL = ''ROW'' THEN\n'
            || E'    o := to_jsonb(OLD);\n    n := to_jsonb(NEW);\n'
            || '    IF ' || ${schema}.pick_sql('o', keys) || ' IS DISTINCT FROM ' || ${schema}.pick_sql('n', keys) || E' THEN\n'
            || ${schema}.into_slots(row_key_changed) || ${schema}.into_slots(row_moved_in)
            || E'    ELSE\n' || ${schema}.into_slots(row_update) || E'    END IF;\n'
            || E'  ELSIF TG_OP = ''UPDATE'' THEN\n' || ${schema}.into_slots(rows_update)
            || E'  ELSIF TG_OP = ''DELETE'' THEN\n' || ${schema}.into_slots(rows_delete)
            || E'  ELSE\n' || ${schema}.into_slots(rows_truncate)
            || E'  END IF;\n';
    ELSE
        -- The filters name the table's columns unqualified: inside Epidemic's statements a column wins over
        -- a variable of the same name (use_column). The row trigger evaluates them on OLD and on NEW,
        -- each as a one-row relation r, exactly as the statement triggers do on their transition tables.
        body := E'\n#variable_conflict use_column\nDECLARE\n  slot smallint;\n  wake boolean;\n  o jsonb;\n  n jsonb;\n'
            || E'  epidemic_mask_old bigint;\n  epidemic_mask_new bigint;\n  epidemic_mask bigint;\nBEGIN\n'
            || '  SELECT st.current_slot, EXISTS (SELECT 1 FROM ' || s || '.waiting) INTO slot, wake FROM ' || s || E'.log_state st;\n'
            || E'  IF TG_OP = ''INSERT'' THEN\n' || ${schema}.into_slots(rows_insert, true)
            || E'  ELSIF TG_OP = ''UPDATE'' AND TG_LEVEL = ''ROW'' THEN\n'
            || '    SELECT ' || mask || E' INTO epidemic_mask_old FROM (SELECT OLD.*) r;\n'
            || '    SELECT ' || mask || E' INTO epidemic_mask_new FROM (SELECT NEW.*) r;\n'
            || E'    epidemic_mask := epidemic_mask_old | epidemic_mask_new;\n'
            || E'    IF epidemic_mask = 0 THEN\n      RETURN NULL;\n    END IF;\n'
            || E'    o := to_jsonb(OLD);\n    n := to_jsonb(NEW);\n'
            || '    IF ' || ${schema}.pick_sql('o', keys) || ' IS DISTINCT FROM ' || ${schema}.pick_sql('n', keys) || E' THEN\n'
            || ${schema}.into_slots(row_key_changed, true) || ${schema}.into_slots(row_moved_in, true)
            || E'    ELSE\n' || ${schema}.into_slots(row_update, true) || E'    END IF;\n'
            || E'  ELSIF TG_OP = ''UPDATE'' THEN\n' || ${schema}.into_slots(rows_update, true)
            || E'  ELSIF TG_OP = ''DELETE'' THEN\n' || ${schema}.into_slots(rows_delete, true)
            || E'  ELSE\n' || ${schema}.into_slots(rows_truncate)
            || E'  END IF;\n';
    END IF;
    body := body
        || E'  IF wake AND FOUND THEN\n    PERFORM pg_notify(' || quote_literal(${schema_literal}) || E', '''');\n  END IF;\n'
        || E'  RETURN NULL;\nEND\n';
    WHILE position(tag IN body) > 0 LOOP
        tag := '$capture' || md5(tag) || '$';
    END LOOP;
    EXECUTE 'CREATE OR REPLACE FUNCTION ' || fn || '() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER'
        || ' SET search_path = pg_catalog, pg_temp AS ' || tag || body || tag;
    EXECUTE 'REVOKE ALL ON FUNCTION ' || fn || '() FROM PUBLIC';

    -- A TRUNCATE of one partition cannot be one change ("all rows of the table are gone" would be untrue):
    -- it is refused on every partition. A TRUNCATE of the partitioned table fires its partitions' triggers
    -- after its own BEFORE trigger, which marks the transaction as truncating the whole table.
    body := E'\nBEGIN\n'
        || E'  IF TG_NARGS > 0 THEN\n'
        || '    PERFORM pg_catalog.set_config(' || quote_literal('epidemic.truncating_' || p_id || '_' || md5(${schema_literal}))
        || E', CASE TG_ARGV[0] WHEN ''begin'' THEN ''on'' ELSE '''' END, true);\n'
        || '  ELSIF coalesce(pg_catalog.current_setting(' || quote_literal('epidemic.truncating_' || p_id || '_' || md5(${schema_literal}))
        || E', true), '''') <> ''on'' THEN\n'
        || E'    RAISE EXCEPTION USING ERRCODE = ''feature_not_supported'', MESSAGE = '
        || quote_literal('TRUNCATE of a partition of ' || rel || ' cannot be captured: truncate ' || rel || ' itself, or DELETE from the partition')
        || E';\n  END IF;\n  RETURN NULL;\nEND\n';
    tag := '$guard$';
    WHILE position(tag IN body) > 0 LOOP
        tag := '$guard' || md5(tag) || '$';
    END LOOP;
    EXECUTE 'CREATE OR REPLACE FUNCTION ' || guard || '() RETURNS trigger LANGUAGE plpgsql'
        || ' SET search_path = pg_catalog, pg_temp AS ' || tag || body || tag;
    EXECUTE 'REVOKE ALL ON FUNCTION ' || guard || '() FROM PUBLIC';

    -- Off every table that is no longer the watched table or one of its partitions (a detached partition).
    FOR tg IN SELECT t.tgname, t.tgrelid FROM pg_catalog.pg_trigger t
               WHERE t.tgfoid IN (to_regprocedure(fn || '()'), to_regprocedure(guard || '()'))
                 AND t.tgrelid NOT IN (SELECT tree.relid FROM ${schema}.table_tree(w.relid) tree) LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', tg.tgname, tg.tgrelid::regclass);
    END LOOP;

    -- Statement triggers fire only on the table a statement names, so the table and each partition get
    -- their own; none names a column. A trigger that is already as it should be is left alone: DDL on
    -- one partition must not lock the others (writers hold them), only the tables the DDL itself locked.
    FOR part IN SELECT pt.relid::regclass AS rel, pt.level, c.relkind
                  FROM ${schema}.table_tree(w.relid) pt JOIN pg_catalog.pg_class c ON c.oid = pt.relid
                 WHERE c.relkind IN ('r', 'p') ORDER BY pt.level LOOP
        PERFORM ${schema}.ensure_trigger(part.rel, ${schema_literal} || '_capture_insert',
            'CREATE TRIGGER %1$I AFTER INSERT ON %2$s REFERENCING NEW TABLE AS epidemic_inserted FOR EACH STATEMENT EXECUTE FUNCTION ' || replace(fn, '%', '%%') || '()');
        IF kind = 'p' THEN
            -- A row trigger does not fire for a row an UPDATE moves to another partition; the statement
            -- trigger's transition tables hold it.
            PERFORM ${schema}.ensure_trigger(part.rel, ${schema_literal} || '_capture_update',
                'CREATE TRIGGER %1$I AFTER UPDATE ON %2$s REFERENCING OLD TABLE AS epidemic_old NEW TABLE AS epidemic_new'
                || ' FOR EACH STATEMENT EXECUTE FUNCTION ' || replace(fn, '%', '%%') || '()');
        ELSE
            -- Per row, filtered before any call: several times cheaper than the statement trigger for
            -- the single-row UPDATEs of most applications, and an unchanged row costs almost nothing.
            PERFORM ${schema}.ensure_trigger(part.rel, ${schema_literal} || '_capture_update',
                'CREATE TRIGGER %1$I AFTER UPDATE ON %2$s FOR EACH ROW WHEN (' || replace(row_changed, '%', '%%')
                || ') EXECUTE FUNCTION ' || replace(fn, '%', '%%') || '()');
        END IF;
        PERFORM ${schema}.ensure_trigger(part.rel, ${schema_literal} || '_capture_delete',
            'CREATE TRIGGER %1$I AFTER DELETE ON %2$s REFERENCING OLD TABLE AS epidemic_deleted FOR EACH STATEMENT EXECUTE FUNCTION ' || replace(fn, '%', '%%') || '()');
        IF part.level = 0 THEN
            PERFORM ${schema}.ensure_trigger(part.rel, ${schema_literal} || '_capture_truncate',
                'CREATE TRIGGER %1$I AFTER TRUNCATE ON %2$s FOR EACH STATEMENT EXECUTE FUNCTION ' || replace(fn, '%', '%%') || '()');
            IF part.relkind = 'p' THEN
                PERFORM ${schema}.ensure_trigger(part.rel, ${schema_literal} || '_guard_truncate',
                    'CREATE TRIGGER %1$I BEFORE TRUNCATE ON %2$s FOR EACH STATEMENT EXECUTE FUNCTION ' || replace(guard, '%', '%%') || '(''begin'')');
                PERFORM ${schema}.ensure_trigger(part.rel, ${schema_literal} || '_guard_truncate_end',
                    'CREATE TRIGGER %1$I AFTER TRUNCATE ON %2$s FOR EACH STATEMENT EXECUTE FUNCTION ' || replace(guard, '%', '%%') || '(''end'')');
            END IF;
        ELSE
            PERFORM ${schema}.ensure_trigger(part.rel, ${schema_literal} || '_guard_truncate',
                'CREATE TRIGGER %1$I BEFORE TRUNCATE ON %2$s FOR EACH STATEMENT EXECUTE FUNCTION ' || replace(guard, '%', '%%') || '()');
        END IF;
        -- The row trigger for INSERT OR DELETE of installs before statement-level capture.
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid = part.rel AND t.tgname = ${schema_literal} || '_capture') THEN
            EXECUTE format('DROP TRIGGER %I ON %s', ${schema_literal} || '_capture', part.rel);
        END IF;
    END LOOP;
    UPDATE ${schema}.watched_table SET capture_version = 2 WHERE id = p_id;
END
$fn$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ${schema} FROM PUBLIC;
