package dev.epidemic;

import dev.epidemic.testing.Sql;
import dev.epidemic.testing.Target;
import dev.epidemic.testing.TestServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The capture function of a table without row filters runs as Epidemic's owner (SECURITY DEFINER) with the
 * caller's search_path: it pins none, because pinning costs every writer's statement (V7__lean_capture.sql).
 * Instead every name in it is schema-qualified. This is the proof: a writer puts a schema of its own before
 * pg_catalog, with functions, operators, types and casts that shadow every one capture uses, and temporary
 * tables named like Epidemic's tables and transition tables; then it does every kind of write. Nothing it
 * planted runs, and the log holds exactly what it would hold otherwise.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.epidemic.testing.TestDatabase#postgresVersions")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CaptureSearchPathTest {
    static final String WRITER = "epidemic_path_writer_" + ProcessHandle.current().pid();

    @Parameter
    TestServer server;
    Target db;

    @BeforeEach
    void database() {
        if (db != null && db.server() == server) {
            return;
        }
        db = server.create();
        db.exec("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + WRITER + "') THEN"
                        + " CREATE ROLE " + WRITER + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION; END IF; END $$",
                "CREATE TABLE item (id bigint PRIMARY KEY, name text, qty int)",
                "CREATE TABLE some_columns (id bigint PRIMARY KEY, name text, qty int, note text)",
                "CREATE TABLE parted (id bigint, k int, name text, PRIMARY KEY (id, k)) PARTITION BY LIST (k)",
                "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES IN (1)",
                "CREATE TABLE parted_2 PARTITION OF parted FOR VALUES IN (2)",
                "CREATE TABLE filtered (id bigint PRIMARY KEY, qty int)",
                "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON item, some_columns, parted, parted_1, parted_2, filtered TO " + WRITER,
                // The writer's own objects, all in a schema it owns; each records that it ran, and as whom.
                "CREATE SCHEMA evil AUTHORIZATION " + WRITER,
                "CREATE TABLE evil.calls (what text, who name)",
                "ALTER TABLE evil.calls OWNER TO " + WRITER,
                "GRANT INSERT ON evil.calls TO PUBLIC");
        db.admin().watch("item", List.of(), List.of());
        db.admin().watch("some_columns", List.of("name", "qty"), List.of());
        db.admin().watch("parted", List.of(), List.of());
        db.admin().watch("filtered", List.of(), List.of(), "qty > 0");
        Sql.exec(writerUrl(), plantedObjects());
    }

    @AfterParameterizedClassInvocation
    void dropTheWriter() {
        db.exec("DROP SCHEMA evil CASCADE", "DROP OWNED BY " + WRITER, "DROP ROLE " + WRITER);
    }

    private String writerUrl() {
        String url = db.url().replace("user=postgres", "user=" + WRITER);
        assertThat(url).contains(WRITER);
        return url;
    }

    /** Shadows for every function, operator and type the generated capture uses, owned by the writer. */
    private static String[] plantedObjects() {
        String record = "INSERT INTO evil.calls VALUES (%s, current_user); ";
        List<String> functions = List.of(
                "to_jsonb(anyelement) RETURNS jsonb AS $f$ BEGIN " + record.formatted("'to_jsonb'") + "RETURN '{\"planted\": 1}'; END $f$",
                "jsonb_build_object(text, jsonb) RETURNS jsonb AS $f$ BEGIN " + record.formatted("'jsonb_build_object'") + "RETURN '{}'; END $f$",
                "pg_current_xact_id() RETURNS xid8 AS $f$ BEGIN " + record.formatted("'pg_current_xact_id'") + "RETURN '1'::xid8; END $f$",
                "statement_timestamp() RETURNS timestamptz AS $f$ BEGIN " + record.formatted("'statement_timestamp'") + "RETURN 'epoch'; END $f$",
                "nextval(regclass) RETURNS bigint AS $f$ BEGIN " + record.formatted("'nextval'") + "RETURN 1; END $f$",
                "currval(regclass) RETURNS bigint AS $f$ BEGIN " + record.formatted("'currval'") + "RETURN 4096; END $f$",
                "pg_sequence_last_value(regclass) RETURNS bigint AS $f$ BEGIN " + record.formatted("'pg_sequence_last_value'") + "RETURN 7; END $f$",
                "pg_notify(text, text) RETURNS void AS $f$ BEGIN " + record.formatted("'pg_notify'") + "END $f$",
                "unnest(anyarray) RETURNS SETOF anyelement AS $f$ BEGIN " + record.formatted("'unnest'") + "END $f$",
                "jsonb_eq(jsonb, jsonb) RETURNS boolean AS $f$ BEGIN " + record.formatted("'jsonb ='") + "RETURN false; END $f$",
                "jsonb_field(jsonb, text) RETURNS jsonb AS $f$ BEGIN " + record.formatted("'jsonb ->'") + "RETURN '\"planted\"'; END $f$",
                "jsonb_concat(jsonb, jsonb) RETURNS jsonb AS $f$ BEGIN " + record.formatted("'jsonb ||'") + "RETURN '{}'; END $f$",
                "text_eq(text, text) RETURNS boolean AS $f$ BEGIN " + record.formatted("'text ='") + "RETURN false; END $f$",
                "int8_int4_mod(bigint, integer) RETURNS bigint AS $f$ BEGIN " + record.formatted("'bigint %'") + "RETURN 3; END $f$",
                "int8_int4_eq(bigint, integer) RETURNS boolean AS $f$ BEGIN " + record.formatted("'bigint = int'") + "RETURN false; END $f$",
                "int8_int4_ge(bigint, integer) RETURNS boolean AS $f$ BEGIN " + record.formatted("'bigint >= int'") + "RETURN true; END $f$",
                "int8_int4_gt(bigint, integer) RETURNS boolean AS $f$ BEGIN " + record.formatted("'bigint > int'") + "RETURN false; END $f$",
                "int8_lt(bigint, bigint) RETURNS boolean AS $f$ BEGIN " + record.formatted("'bigint <'") + "RETURN true; END $f$",
                "char_in(evil.\"char\") RETURNS pg_catalog.\"char\" AS $f$ BEGIN " + record.formatted("'\"char\" cast'") + "RETURN 'X'; END $f$");
        List<String> statements = new ArrayList<>(List.of(
                "CREATE TYPE evil.\"char\" AS ENUM ('I', 'U', 'D', 'T')",
                "CREATE DOMAIN evil.jsonb AS text",
                "CREATE DOMAIN evil.regclass AS text",
                "CREATE DOMAIN evil.xid8 AS text"));
        for (String f : functions) {
            statements.add("CREATE FUNCTION evil." + f + " LANGUAGE plpgsql SET search_path = pg_catalog");
        }
        statements.addAll(List.of(
                "CREATE OPERATOR evil.= (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = evil.jsonb_eq)",
                "CREATE OPERATOR evil.-> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = evil.jsonb_field)",
                "CREATE OPERATOR evil.|| (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = evil.jsonb_concat)",
                "CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_eq)",
                "CREATE OPERATOR evil.% (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = evil.int8_int4_mod)",
                "CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = evil.int8_int4_eq)",
                "CREATE OPERATOR evil.>= (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = evil.int8_int4_ge)",
                "CREATE OPERATOR evil.> (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = evil.int8_int4_gt)",
                "CREATE OPERATOR evil.< (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.int8_lt)",
                "CREATE CAST (evil.\"char\" AS pg_catalog.\"char\") WITH FUNCTION evil.char_in(evil.\"char\") AS IMPLICIT"));
        return statements.toArray(String[]::new);
    }

    /** The session of a hostile writer: its schema first, temporary tables named like Epidemic's before pg_catalog. */
    private static final List<String> HOSTILE_SESSION = List.of(
            "CREATE TEMP TABLE epidemic_inserted (id bigint, name text, qty int)",
            "CREATE TEMP TABLE epidemic_deleted (id bigint, name text, qty int)",
            "CREATE TEMP TABLE epidemic_old (id bigint, name text, qty int)",
            "CREATE TEMP TABLE epidemic_new (id bigint, name text, qty int)",
            "CREATE TEMP TABLE change_log_0 (LIKE evil.calls)",
            "CREATE TEMP TABLE log_state (current_slot int)",
            "CREATE TEMP TABLE waiting (consumer text)",
            "CREATE TEMP TABLE writer_hint (last_value bigint)",
            "SET search_path = evil, pg_temp, pg_catalog, public");

    @Test
    void aHostileSearchPathChangesNothingCaptureDoes() {
        // Given the writer's planted objects and a hostile session,
        long before = db.queryLong("SELECT coalesce(max(id), 0) FROM epidemic.change_log");
        List<String> writes = List.of(
                "INSERT INTO public.item VALUES (1, 'a', 1), (2, 'b', 2)",
                "UPDATE public.item SET qty = 5 WHERE id OPERATOR(pg_catalog.=) 1",
                "UPDATE public.item SET id = 3 WHERE id OPERATOR(pg_catalog.=) 2",
                "DELETE FROM public.item WHERE id OPERATOR(pg_catalog.=) 1",
                "INSERT INTO public.some_columns VALUES (1, 'a', 1, 'n')",
                "UPDATE public.some_columns SET qty = 2 WHERE id OPERATOR(pg_catalog.=) 1",
                "UPDATE public.some_columns SET note = 'unwatched' WHERE id OPERATOR(pg_catalog.=) 1",
                "INSERT INTO public.parted VALUES (1, 1, 'a')",
                "UPDATE public.parted SET k = 2 WHERE id OPERATOR(pg_catalog.=) 1",
                "UPDATE public.parted SET name = 'b' WHERE id OPERATOR(pg_catalog.=) 1",
                "INSERT INTO public.filtered VALUES (1, 1), (2, 0)",
                "TRUNCATE public.item");
        // when it does every kind of write,
        List<String> statements = new ArrayList<>(HOSTILE_SESSION);
        statements.addAll(writes);
        Sql.exec(writerUrl(), statements.toArray(String[]::new));

        // nothing it planted ran, as Epidemic's owner or at all,
        assertThat(Sql.rows(db.url(), "SELECT what || ' as ' || who FROM evil.calls")).isEmpty();
        // and the log holds exactly the changes, with the real values.
        assertThat(Sql.rows(db.url(), "SELECT l.op::text || ' ' || w.table_name || ' ' || coalesce(l.key::text, '') || ' '"
                + " || coalesce(l.new::text, '') FROM epidemic.change_log l JOIN epidemic.watched_table w ON w.id = l.table_id"
                + " WHERE l.id > " + before + " ORDER BY l.id"))
                .containsExactly(
                        "I item {\"id\": 1} {\"id\": 1, \"qty\": 1, \"name\": \"a\"}",
                        "I item {\"id\": 2} {\"id\": 2, \"qty\": 2, \"name\": \"b\"}",
                        "U item {\"id\": 1} {\"id\": 1, \"qty\": 5, \"name\": \"a\"}",
                        "D item {\"id\": 2} ",
                        "I item {\"id\": 3} {\"id\": 3, \"qty\": 2, \"name\": \"b\"}",
                        "D item {\"id\": 1} ",
                        "I some_columns {\"id\": 1} {\"qty\": 1, \"name\": \"a\"}",
                        "U some_columns {\"id\": 1} {\"qty\": 2, \"name\": \"a\"}",
                        "I parted {\"k\": 1, \"id\": 1} {\"k\": 1, \"id\": 1, \"name\": \"a\"}",
                        "D parted {\"k\": 1, \"id\": 1} ",
                        "I parted {\"k\": 2, \"id\": 1} {\"k\": 2, \"id\": 1, \"name\": \"a\"}",
                        "U parted {\"k\": 2, \"id\": 1} {\"k\": 2, \"id\": 1, \"name\": \"b\"}",
                        "I filtered {\"id\": 1} {\"id\": 1, \"qty\": 1}",
                        "T item  ");
        assertThat(db.queryLong("SELECT count(*) FROM epidemic.change_log WHERE id > " + before
                + " AND (txid = '1' OR at < now() - interval '1 hour')")).isZero();
    }

    @Test
    void onlyTheCaptureOfTablesWithoutRowFiltersLeavesTheSearchPathToTheCaller() {
        List<String> unpinned = Sql.rows(db.url(), "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                + " WHERE n.nspname = 'epidemic' AND p.proconfig IS NULL ORDER BY 1");
        List<String> capture = Sql.rows(db.url(), "SELECT 'capture_' || id FROM epidemic.watched_table"
                + " WHERE table_name <> 'filtered' ORDER BY 1");

        assertThat(unpinned).containsExactlyElementsOf(capture);
    }
}
