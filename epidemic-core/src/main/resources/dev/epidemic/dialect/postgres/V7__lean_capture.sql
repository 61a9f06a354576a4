-- Epidemic's own schema, version 7: lean capture (docs/how-it-works.md, "What a writer pays").
-- ${schema} is the quoted schema name, ${schema_literal} the same name as a string literal.
--
-- Two costs leave the capture functions of tables without row filters:
-- * SET search_path, which PostgreSQL pays on every call of a function that has it (a GUC nest level,
--   and the search path recomputed on the way in and out). Instead, every function, operator and type in
--   the generated body is schema-qualified (OPERATOR(pg_catalog.=), pg_catalog.jsonb, ...), and the
--   names left unqualified are ones PostgreSQL resolves before any schema: the transition tables
--   (ephemeral relations win over every table, temporary or not), PL/pgSQL's own variables, and SQL
--   keywords (bigint, boolean, COALESCE, IS NULL). A caller's search_path then changes nothing the
--   function does; CaptureSearchPathTest proves it with shadowing functions, operators, types, casts and
--   temporary tables. A table with row filters keeps the pinned search_path: its filters are SQL text.
-- * a statement reading log_state and waiting on every call. The slot to append to and whether an idle
--   dispatcher waits for a NOTIFY are now one number, writer_hint, kept by triggers on those two tables
--   and read by the writer in a PL/pgSQL simple expression (no executor). It is a hint: the slot only
--   decides where a change is appended (prune checks a slot under its lock before it truncates it, so a
--   stale slot costs nothing but a later DELETE), and a wake-up missed by a race is caught by the
--   dispatcher's periodic poll, as before.

-- The slot writers append to (0..2), plus 4 while some dispatcher waits for a NOTIFY.
CREATE SEQUENCE ${schema}.writer_hint AS bigint MINVALUE 0 MAXVALUE 7 NO CYCLE;

-- Sets writer_hint from log_state and waiting. The row lock on log_state makes refreshes take turns,
-- each reading what committed before it, so the last one leaves the hint true.
CREATE FUNCTION ${schema}.refresh_writer_hint() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    current smallint;
BEGIN
    SELECT st.current_slot INTO current FROM ${schema}.log_state st FOR UPDATE;
    PERFORM pg_catalog.setval((quote_ident(${schema_literal}) || '.writer_hint')::regclass,
        current + CASE WHEN EXISTS (SELECT 1 FROM ${schema}.waiting) THEN 4 ELSE 0 END, true);
    RETURN NULL;
END
$fn$;
CREATE TRIGGER refresh_writer_hint AFTER INSERT OR UPDATE OR DELETE ON ${schema}.waiting
    FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.refresh_writer_hint();
CREATE TRIGGER refresh_writer_hint AFTER UPDATE ON ${schema}.log_state
    FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.refresh_writer_hint();
SELECT pg_catalog.setval((quote_ident(${schema_literal}) || '.writer_hint')::regclass,
    (SELECT st.current_slot FROM ${schema}.log_state st) + CASE WHEN EXISTS (SELECT 1 FROM ${schema}.waiting) THEN 4 ELSE 0 END, true);

-- As in V3, with every name schema-qualified.
CREATE OR REPLACE FUNCTION ${schema}.pick_sql(p_row text, p_names text[]) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
    -- jsonb_build_object takes at most 100 arguments: longer lists are concatenated in pieces of 50 columns.
    SELECT CASE WHEN p_names IS NULL THEN p_row
                ELSE coalesce(string_agg(piece, ' OPERATOR(pg_catalog.||) ' ORDER BY chunk), '''{}''::pg_catalog.jsonb') END
      FROM (SELECT (ord - 1) / 50 AS chunk,
                   'pg_catalog.jsonb_build_object(' || string_agg(quote_literal(name) || ', ' || p_row || ' OPERATOR(pg_catalog.->) '
                                                                  || quote_literal(name), ', ' ORDER BY ord) || ')' AS piece
              FROM unnest(p_names) WITH ORDINALITY n(name, ord)
             GROUP BY 1) pieces
$fn$;

-- SQL text of "a IS DISTINCT FROM b" that looks up no operator by search_path (IS DISTINCT FROM does).
CREATE FUNCTION ${schema}.distinct_sql(p_a text, p_b text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT '(NOT COALESCE((' || p_a || ') OPERATOR(pg_catalog.=) (' || p_b || '), (' || p_a || ') IS NULL AND (' || p_b || ') IS NULL))'
$fn$;

-- As in V5, with every name schema-qualified, and the NOTIFY sent here when changes were logged and a
-- dispatcher waits. The last slot is the ELSE branch: no value of the hint can lose a change.
CREATE OR REPLACE FUNCTION ${schema}.into_slots(p_rows text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT E'    DECLARE\n      logged bigint;\n    BEGIN\n'
           || string_agg(CASE slot WHEN 0 THEN '    IF slot OPERATOR(pg_catalog.=) 0 THEN'
                                   WHEN 1 THEN '    ELSIF slot OPERATOR(pg_catalog.=) 1 THEN'
                                   ELSE '    ELSE' END || E'\n'
                         || '      INSERT INTO ' || quote_ident(${schema_literal}) || '.change_log_' || slot
                         || ' (slot, txid, table_id, op, key, old, new, at, id) SELECT ' || slot || ', rows.*, pg_catalog.nextval('
                         || quote_literal(quote_ident(${schema_literal}) || '.change_id_seq') || '::pg_catalog.regclass) FROM (' || p_rows || E') rows;\n',
                         '' ORDER BY slot) || E'    END IF;\n'
           || E'    GET DIAGNOSTICS logged = ROW_COUNT;\n'
           || E'    IF logged OPERATOR(pg_catalog.>) 0 THEN\n'
           || '      IF (pg_catalog.currval(' || quote_literal(quote_ident(${schema_literal}) || '.change_id_seq')
           || E'::pg_catalog.regclass) OPERATOR(pg_catalog.%) 4096) OPERATOR(pg_catalog.<) logged THEN\n'
           || '        PERFORM ' || quote_ident(${schema_literal}) || '.log_tick(pg_catalog.currval('
           || quote_literal(quote_ident(${schema_literal}) || '.change_id_seq') || E'::pg_catalog.regclass));\n'
           || E'      END IF;\n'
           || E'      IF wake THEN\n'
           || '        PERFORM pg_catalog.pg_notify(' || quote_literal(${schema_literal}) || E', '''');\n'
           || E'      END IF;\n'
           || E'    END IF;\n    END;\n'
      FROM generate_series(0, 2) slot
$fn$;

-- install_capture of V6, lean: every name qualified, the slot and wake-up from writer_hint, and SET search_path
-- only on the capture of a table with row filters.
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
    hint text;          -- the DECLARE section of the capture function
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
    rows_insert := format('SELECT pg_catalog.pg_current_xact_id(), %s, ''I''::pg_catalog."char", %s, NULL::pg_catalog.jsonb, %s, pg_catalog.statement_timestamp()%s'
        || ' FROM (SELECT pg_catalog.to_jsonb(r) AS j%s FROM epidemic_inserted r) x%s',
        p_id, ${schema}.pick_sql('x.j', keys), ${schema}.pick_sql('x.j', names), masked,
        CASE WHEN mask IS NULL THEN '' ELSE ', ' || mask || ' AS m' END, CASE WHEN mask IS NULL THEN '' ELSE ' WHERE x.m <> 0' END);
    rows_delete := format('SELECT pg_catalog.pg_current_xact_id(), %s, ''D''::pg_catalog."char", %s, %s, NULL::pg_catalog.jsonb, pg_catalog.statement_timestamp()%s'
        || ' FROM (SELECT pg_catalog.to_jsonb(r) AS j%s FROM epidemic_deleted r) x%s',
        p_id, ${schema}.pick_sql('x.j', keys), ${schema}.pick_sql('x.j', names), masked,
        CASE WHEN mask IS NULL THEN '' ELSE ', ' || mask || ' AS m' END, CASE WHEN mask IS NULL THEN '' ELSE ' WHERE x.m <> 0' END);
    -- Old and new rows of an UPDATE are paired by their place in the transition tables, which PostgreSQL
    -- fills in step (a row moved to another partition too): unnest of the two arrays zips them in one pass,
    -- with no join whose plan (cached for one size of statement) could go quadratic for another. A row
    -- whose key changed is a DELETE of the old key and an INSERT of the new one; all such DELETEs come
    -- first, so keys swapped by one statement apply in any replica. A row whose captured columns did not
    -- change is not logged.
    IF mask IS NULL THEN
        rows_update := format('SELECT pg_catalog.pg_current_xact_id(), %s, c.op, c.key, c.old, c.new, pg_catalog.statement_timestamp() FROM ('
            || 'WITH p AS (SELECT %s AS ok, %s AS nk, %s AS ov, %s AS nv'
            || ' FROM ROWS FROM (pg_catalog.unnest((SELECT pg_catalog.array_agg(pg_catalog.to_jsonb(r)) FROM epidemic_old r)),'
            || ' pg_catalog.unnest((SELECT pg_catalog.array_agg(pg_catalog.to_jsonb(r)) FROM epidemic_new r))) AS z(o, n))'
            || ' SELECT ''D''::pg_catalog."char" AS op, p.ok AS key, p.ov AS old, NULL::pg_catalog.jsonb AS new FROM p WHERE %s'
            || ' UNION ALL SELECT ''I''::pg_catalog."char", p.nk, NULL::pg_catalog.jsonb, p.nv FROM p WHERE %s'
            || ' UNION ALL SELECT ''U''::pg_catalog."char", p.nk, p.ov, p.nv FROM p WHERE NOT %s AND %s) c',
            p_id, ${schema}.pick_sql('z.o', keys), ${schema}.pick_sql('z.n', keys),
            ${schema}.pick_sql('z.o', names), ${schema}.pick_sql('z.n', names),
            ${schema}.distinct_sql('p.ok', 'p.nk'), ${schema}.distinct_sql('p.ok', 'p.nk'),
            ${schema}.distinct_sql('p.ok', 'p.nk'), ${schema}.distinct_sql('p.ov', 'p.nv'));
    ELSE
        -- The masks of the old and the new rows are zipped in the same pass as the rows themselves.
        rows_update := format('SELECT pg_catalog.pg_current_xact_id(), %s, c.op, c.key, c.old, c.new, pg_catalog.statement_timestamp(), c.m FROM ('
            || 'WITH p AS (SELECT %s AS ok, %s AS nk, %s AS ov, %s AS nv, z.om | z.nm AS m'
            || ' FROM unnest((SELECT array_agg(pg_catalog.to_jsonb(r)) FROM epidemic_old r), (SELECT array_agg(pg_catalog.to_jsonb(r)) FROM epidemic_new r),'
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
    row_key_changed := format('SELECT pg_catalog.pg_current_xact_id(), %s, ''D''::pg_catalog."char", %s, %s, NULL::pg_catalog.jsonb, pg_catalog.statement_timestamp()%s',
        p_id, ${schema}.pick_sql('o', keys), ${schema}.pick_sql('o', names), masked);
    row_moved_in := format('SELECT pg_catalog.pg_current_xact_id(), %s, ''I''::pg_catalog."char", %s, NULL::pg_catalog.jsonb, %s, pg_catalog.statement_timestamp()%s',
        p_id, ${schema}.pick_sql('n', keys), ${schema}.pick_sql('n', names), masked);
    row_update := format('SELECT pg_catalog.pg_current_xact_id(), %s, ''U''::pg_catalog."char", %s, %s, %s, pg_catalog.statement_timestamp()%s',
        p_id, ${schema}.pick_sql('n', keys), ${schema}.pick_sql('o', names), ${schema}.pick_sql('n', names), masked);
    row_changed := CASE WHEN names IS NULL THEN 'OLD.* *<> NEW.*'  -- record image: any type, even without equality
                        ELSE ${schema}.pick_sql('pg_catalog.to_jsonb(OLD)', keys || names) || ' IS DISTINCT FROM '
                             || ${schema}.pick_sql('pg_catalog.to_jsonb(NEW)', keys || names) END;
    rows_truncate := format('SELECT pg_catalog.pg_current_xact_id(), %s, ''T''::pg_catalog."char", NULL::pg_catalog.jsonb, NULL::pg_catalog.jsonb,'
        || ' NULL::pg_catalog.jsonb, pg_catalog.statement_timestamp()', p_id);
    -- Every capture call starts by reading writer_hint: the slot, and whether to NOTIFY.
    hint := E'DECLARE\n  hint bigint := COALESCE(pg_catalog.pg_sequence_last_value('
        || quote_literal(s || '.writer_hint') || E'::pg_catalog.regclass), 4);\n'
        || E'  slot bigint := hint OPERATOR(pg_catalog.%) 4;\n  wake boolean := hint OPERATOR(pg_catalog.>=) 4;\n'
        || E'  o pg_catalog.jsonb;\n  n pg_catalog.jsonb;\n';

    IF mask IS NULL THEN
        -- A table without filters: the capture of V3, statement for statement.
        -- The row images are never NULL, so "the keys differ" needs no IS DISTINCT FROM.
        body := E'\n' || hint || E'BEGIN\n'
            || E'  IF TG_OP OPERATOR(pg_catalog.=) ''INSERT'' THEN\n' || ${schema}.into_slots(rows_insert)
            || E'  ELSIF TG_OP OPERATOR(pg_catalog.=) ''UPDATE'' AND TG_LEVEL OPERATOR(pg_catalog.=) ''ROW'' THEN\n'
            || E'    o := pg_catalog.to_jsonb(OLD);\n    n := pg_catalog.to_jsonb(NEW);\n'
            || '    IF NOT (' || ${schema}.pick_sql('o', keys) || ') OPERATOR(pg_catalog.=) (' || ${schema}.pick_sql('n', keys) || E') THEN\n'
            || ${schema}.into_slots(row_key_changed) || ${schema}.into_slots(row_moved_in)
            || E'    ELSE\n' || ${schema}.into_slots(row_update) || E'    END IF;\n'
            || E'  ELSIF TG_OP OPERATOR(pg_catalog.=) ''UPDATE'' THEN\n' || ${schema}.into_slots(rows_update)
            || E'  ELSIF TG_OP OPERATOR(pg_catalog.=) ''DELETE'' THEN\n' || ${schema}.into_slots(rows_delete)
            || E'  ELSE\n' || ${schema}.into_slots(rows_truncate)
            || E'  END IF;\n';
    ELSE
        -- The filters name the table's columns unqualified: inside Epidemic's statements a column wins over
        -- a variable of the same name (use_column). The row trigger evaluates them on OLD and on NEW,
        -- each as a one-row relation r, exactly as the statement triggers do on their transition tables.
        body := E'\n#variable_conflict use_column\n' || hint
            || E'  epidemic_mask_old bigint;\n  epidemic_mask_new bigint;\n  epidemic_mask bigint;\nBEGIN\n'
            || E'  IF TG_OP = ''INSERT'' THEN\n' || ${schema}.into_slots(rows_insert, true)
            || E'  ELSIF TG_OP = ''UPDATE'' AND TG_LEVEL = ''ROW'' THEN\n'
            || '    SELECT ' || mask || E' INTO epidemic_mask_old FROM (SELECT OLD.*) r;\n'
            || '    SELECT ' || mask || E' INTO epidemic_mask_new FROM (SELECT NEW.*) r;\n'
            || E'    epidemic_mask := epidemic_mask_old | epidemic_mask_new;\n'
            || E'    IF epidemic_mask = 0 THEN\n      RETURN NULL;\n    END IF;\n'
            || E'    o := pg_catalog.to_jsonb(OLD);\n    n := pg_catalog.to_jsonb(NEW);\n'
            || '    IF NOT (' || ${schema}.pick_sql('o', keys) || ') OPERATOR(pg_catalog.=) (' || ${schema}.pick_sql('n', keys) || E') THEN\n'
            || ${schema}.into_slots(row_key_changed, true) || ${schema}.into_slots(row_moved_in, true)
            || E'    ELSE\n' || ${schema}.into_slots(row_update, true) || E'    END IF;\n'
            || E'  ELSIF TG_OP = ''UPDATE'' THEN\n' || ${schema}.into_slots(rows_update, true)
            || E'  ELSIF TG_OP = ''DELETE'' THEN\n' || ${schema}.into_slots(rows_delete, true)
            || E'  ELSE\n' || ${schema}.into_slots(rows_truncate)
            || E'  END IF;\n';
    END IF;
    body := body || E'  RETURN NULL;\nEND\n';
    WHILE position(tag IN body) > 0 LOOP
        tag := '$capture' || md5(tag) || '$';
    END LOOP;
    EXECUTE 'CREATE OR REPLACE FUNCTION ' || fn || '() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER'
        || CASE WHEN mask IS NULL THEN '' ELSE ' SET search_path = pg_catalog, pg_temp' END || ' AS ' || tag || body || tag;
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

-- Every capture function is generated again, lean. One that cannot be (the migrating role may not alter
-- the table's triggers) keeps its V6 capture, which reads log_state and waiting and stays correct.
DO $upgrade$
DECLARE
    w record;
BEGIN
    FOR w IN SELECT t.id FROM ${schema}.watched_table t JOIN pg_catalog.pg_class c ON c.oid = t.relid WHERE t.active AND t.capture_version >= 2 LOOP
        BEGIN
            PERFORM ${schema}.install_capture(w.id);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'Epidemic: capture of table % keeps its earlier, slower form: %', w.id, SQLERRM;
        END;
    END LOOP;
END
$upgrade$;
