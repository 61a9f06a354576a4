package dev.epidemic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.epidemic.cli.ItemWriters.Event;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.Target;
import dev.epidemic.testing.TestServer;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The contract's promise for a killed tail: restarted under the same name, it resumes without losing
 * any change. Writers keep committing (and rolling back) while tail is killed with SIGKILL again and again.
 * On every database.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.epidemic.testing.TestDatabase#all")
class TailCrashTest {
    @Parameter
    TestServer server;
    Target db;

    private static final int WRITERS = 4;
    private static final int KILLS = 8;
    private static final List<String> BATCH_SIZES = List.of("1", "10", "100", "1000");

    @Test
    void killedTailRestartedUnderTheSameNameLosesNothingAndPrintsNothingRolledBack() throws Exception {
        db = server.create();
        String url = db.url();
        Sql.exec(url, ItemWriters.CREATE_TABLE);
        assertThat(Cli.run(db.cli("watch", "items").toArray(String[]::new)).exitCode()).isZero();
        Random random = new Random();
        List<List<String>> runs = new ArrayList<>(); // the complete lines of each run (a kill may cut the last one)

        // Given writers that keep committing and rolling back
        ItemWriters writers = ItemWriters.start(url, WRITERS);
        try {
            // When tail is killed mid-stream, again and again, and restarted
            for (int kill = 0; kill < KILLS; kill++) {
                CliProcess tail = CliProcess.start(db.cli("tail", "--consumer", "crash",
                        "--batch-size", BATCH_SIZES.get(kill % BATCH_SIZES.size())).toArray(String[]::new));
                tail.awaitLines(1, Duration.ofSeconds(20));
                Thread.sleep(200 + random.nextInt(600));
                tail.kill();
                runs.add(tail.lines());
            }
        } finally {
            writers.close();
        }
        // and finally drains what is left
        CliProcess drain = CliProcess.runToEnd(Duration.ofSeconds(60), db.cli("tail", "--consumer", "crash", "--idle-exit", "2").toArray(String[]::new));
        assertThat(drain.exitCode()).as(drain.err()).isZero();
        List<JsonNode> printed = new ArrayList<>();
        for (List<String> run : runs) {
            printed.addAll(TailTest.parse(run));
        }
        printed.addAll(TailTest.parse(drain.lines()));

        // Then every committed change was printed, and nothing else
        Set<Event> committed = writers.committed();
        assertThat(committed.size()).as("committed changes").isGreaterThan(100);
        assertThat(writers.rollbacks()).as("rolled-back transactions").isGreaterThan(5);
        List<JsonNode> firstOccurrences = firstOccurrences(printed);
        List<Event> events = firstOccurrences.stream().map(this::event).toList();
        assertThat(events).as("rolled-back changes printed").noneMatch(event -> event.seq() < 0);
        Set<Event> printedEvents = new HashSet<>(events);
        assertThat(printedEvents).as("events printed once per change id").hasSameSizeAs(events);
        Set<Event> lost = new HashSet<>(committed);
        lost.removeAll(printedEvents);
        assertThat(lost).as("committed changes never printed").isEmpty();
        assertThat(printedEvents).as("printed changes that never committed").isEqualTo(committed);

        // and each row's changes came in the order they were made
        Map<Integer, Long> lastOrder = new HashMap<>();
        for (Event event : events) {
            Long before = lastOrder.put(event.id(), event.order());
            assertThat(before == null || before < event.order()).as("row %d: %s after order %s", event.id(), event, before).isTrue();
        }
        // and a transaction's changes came together
        List<Long> txids = firstOccurrences.stream().map(change -> change.get("txid").asLong()).toList();
        Set<Long> finished = new HashSet<>();
        for (int i = 0; i < txids.size(); i++) {
            boolean continues = i > 0 && txids.get(i).equals(txids.get(i - 1));
            assertThat(continues || finished.add(txids.get(i))).as("transaction %d split", txids.get(i)).isTrue();
        }
        System.out.printf(server + " crash test: %d commits, %d rollbacks, %d committed changes, %d lines printed in %d runs%n",
                writers.commits(), writers.rollbacks(), committed.size(), printed.size(), runs.size() + 1);
    }

    /** Each change once, at its first printing; a reprinted change must be identical to the first. */
    private static List<JsonNode> firstOccurrences(List<JsonNode> printed) {
        Map<Long, JsonNode> byId = new LinkedHashMap<>();
        for (JsonNode change : printed) {
            JsonNode first = byId.putIfAbsent(change.get("id").asLong(), change);
            if (first != null) {
                assertThat(change).as("change %d printed again", change.get("id").asLong()).isEqualTo(first);
            }
        }
        return List.copyOf(byId.values());
    }

    private Event event(JsonNode change) {
        assertThat(change.get("table").asText()).isEqualTo(db.qualified("items"));
        String op = change.get("op").asText();
        JsonNode values = op.equals("DELETE") ? change.get("old") : change.get("new");
        return new Event(change.get("key").get("id").asInt(), op.charAt(0), values.get("seq").asInt());
    }
}
