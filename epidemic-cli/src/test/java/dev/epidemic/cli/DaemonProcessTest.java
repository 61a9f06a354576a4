package dev.epidemic.cli;

import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code epidemic run} as real processes: a handler loaded from a jar in the plugins directory, two
 * daemons of which exactly one dispatches and the other takes over after {@code kill -9}, SIGTERM, and a
 * password that never shows.
 */
class DaemonProcessTest {
    private static final Duration START = Duration.ofSeconds(60);

    @TempDir
    static Path plugins;

    @TempDir
    Path dir;

    @BeforeAll
    static void plugin() throws IOException {
        PluginJar.buildInto(plugins);
    }

    /** One handling recorded by the plugin: which process, which change, from when to when. */
    record Handling(long changeId, int rowId, long pid, Instant started, Instant ended) {
    }

    private static String database() {
        String url = TestDatabase.get().createDatabase();
        Sql.exec(url, "CREATE TABLE items (id int PRIMARY KEY, v text)",
                "CREATE TABLE handled (change_id bigint, row_id int, pid bigint, started timestamptz, ended timestamptz)");
        return url;
    }

    private Path config(String url, String databaseExtras, String pluginsKey) throws IOException {
        Path config = dir.resolve("daemon.yaml");
        Files.writeString(config, """
                database:
                  url: '%s'%s
                %sconsumers:
                  - name: items-recorder
                    batch-size: 20
                    tables:
                      - table: public.items
                        handler:
                          class: %s
                          properties: {url: '%s', sleep-ms: '2'}
                """.formatted(url, databaseExtras, pluginsKey, PluginJar.HANDLER, url));
        return config;
    }

    private static List<Handling> handled(String url) {
        return Sql.rows(url, "SELECT change_id, row_id, pid, (extract(epoch FROM started) * 1000000)::bigint,"
                        + " (extract(epoch FROM ended) * 1000000)::bigint FROM handled ORDER BY started")
                .stream().map(row -> row.split("\\|"))
                .map(f -> new Handling(Long.parseLong(f[0]), Integer.parseInt(f[1]), Long.parseLong(f[2]), micros(f[3]), micros(f[4])))
                .toList();
    }

    private static Instant micros(String text) {
        long micros = Long.parseLong(text);
        return Instant.ofEpochSecond(micros / 1_000_000, (micros % 1_000_000) * 1000);
    }

    @Test
    void twoDaemonsDispatchOneAtATimeAndTheStandbyTakesOverAfterKill9WithoutLosingAnything() throws Exception {
        // Given two daemons with the same configuration, the handler in a plugins directory (option and key)
        String url = database();
        assertThat(Cli.run("--url", url, "watch", "items").exitCode()).isZero();
        Path config = config(url, "", "");
        CliProcess first = CliProcess.start(Map.of(), "run", "--config", config.toString(), "--plugins", plugins.toString());
        first.awaitLog("Consumer items-recorder started", START);
        Path configWithPlugins = Files.writeString(dir.resolve("daemon2.yaml"),
                Files.readString(config).replace("consumers:", "plugins: '" + plugins + "'\nconsumers:"));
        CliProcess second = CliProcess.start(Map.of(), "run", "--config", configWithPlugins.toString());
        second.awaitLog("is active elsewhere; standing by", START);

        Instant killed;
        List<Integer> inserted;
        try (RowInserter writer = new RowInserter(url)) {
            // When changes flow, exactly one of them dispatches
            await().atMost(START).until(() -> handled(url).size() >= 100);
            assertThat(handled(url)).extracting(Handling::pid).containsOnly(first.pid());

            // When the active one is killed while the writer goes on
            killed = Instant.now();
            first.kill();
            await().atMost(Duration.ofSeconds(30)).until(() -> handled(url).stream().anyMatch(h -> h.pid() == second.pid()));
            Thread.sleep(500); // the writer keeps going after the takeover
            writer.close();
            inserted = writer.inserted;
        }
        // Then the standby delivers everything that was left
        await().atMost(START).until(() -> handled(url).stream().map(Handling::rowId).distinct().count() == inserted.size());
        second.terminate();
        assertThat(second.waitFor(Duration.ofSeconds(30))).as(second.err()).isZero();

        List<Handling> all = handled(url);
        List<Handling> byFirst = all.stream().filter(h -> h.pid() == first.pid()).toList();
        List<Handling> bySecond = all.stream().filter(h -> h.pid() == second.pid()).toList();
        Instant takenOver = bySecond.stream().map(Handling::started).min(Instant::compareTo).orElseThrow();
        Duration takeover = Duration.between(killed, takenOver);
        System.out.printf("failover: takeover %d ms after kill -9; %d changes handled by the first daemon, %d by the second, %d handled twice%n",
                takeover.toMillis(), byFirst.size(), bySecond.size(), all.size() - all.stream().map(Handling::changeId).distinct().count());

        assertThat(all).extracting(Handling::pid).containsOnly(first.pid(), second.pid());
        assertThat(new HashSet<>(all.stream().map(Handling::rowId).toList())).as("nothing lost").isEqualTo(new HashSet<>(inserted));
        Instant firstEnded = byFirst.stream().map(Handling::ended).max(Instant::compareTo).orElseThrow();
        assertThat(firstEnded).as("the killed daemon's last handling ended before the standby's first began").isBefore(takenOver);
        assertThat(byFirst).allSatisfy(h -> assertThat(h.started()).isBefore(killed));
        assertThat(takeover).as("takeover time (the goal is 5 s; the bound is generous against a loaded machine)")
                .isLessThan(Duration.ofSeconds(15));
        assertThat(second.err()).contains("took over as the active dispatcher");
    }

    @Test
    void sigtermStoresThePositionSoARestartRepeatsNothingAndThePasswordNeverShows() throws Exception {
        // Given a daemon whose database password comes from the environment
        String url = database();
        assertThat(Cli.run("--url", url, "watch", "items").exitCode()).isZero();
        String password = "pw-" + System.nanoTime();
        Map<String, String> environment = Map.of("MAIL_DB_PASSWORD", password);
        Path config = config(url, "\n  password: ${MAIL_DB_PASSWORD}", "");
        CliProcess daemon = CliProcess.start(environment, "run", "--config", config.toString(), "--plugins", plugins.toString());
        daemon.awaitLog("Consumer items-recorder started", START);
        assertThat(daemon.psArgs()).contains("run --config").doesNotContain(password);

        List<Integer> inserted;
        try (RowInserter writer = new RowInserter(url)) {
            // When it is sent SIGTERM while changes flow
            await().atMost(START).until(() -> handled(url).size() >= 50);
            daemon.terminate();
            // Then it exits 0 after storing its position
            assertThat(daemon.waitFor(Duration.ofSeconds(30))).as(daemon.err()).isZero();
            Thread.sleep(200);
            writer.close();
            inserted = writer.inserted;
        }
        int beforeRestart = handled(url).size();

        // When it is started again, it delivers the rest and nothing of what it had finished
        CliProcess restarted = CliProcess.start(environment, "run", "--config", config.toString(), "--plugins", plugins.toString());
        await().atMost(START).until(() -> handled(url).stream().map(Handling::rowId).distinct().count() == inserted.size());
        restarted.terminate();
        assertThat(restarted.waitFor(Duration.ofSeconds(30))).as(restarted.err()).isZero();

        List<Handling> all = handled(url);
        Set<Long> seen = new HashSet<>();
        assertThat(all).as("no change handled twice").allSatisfy(h -> assertThat(seen.add(h.changeId())).as("change %d", h.changeId()).isTrue());
        assertThat(beforeRestart).isLessThan(all.size());
        System.out.printf("sigterm: %d changes before SIGTERM, %d after the restart, none twice%n", beforeRestart, all.size() - beforeRestart);
        for (CliProcess run : List.of(daemon, restarted)) {
            assertThat(run.out() + run.err()).doesNotContain(password);
            assertThat(run.err()).contains("Stop requested", "All consumers stopped; positions stored");
        }
    }
}
