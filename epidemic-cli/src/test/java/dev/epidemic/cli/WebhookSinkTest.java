package dev.epidemic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.epidemic.api.DeadLetter;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.testing.Sql;
import dev.epidemic.testing.TestDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.ToIntFunction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The webhook sink of {@code epidemic run}, configured by YAML, against a real HTTP server of this test:
 * signed bodies, retries on 5xx, dead letters when it keeps failing, none of the retries for a 4xx.
 */
class WebhookSinkTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String SECRET = "s3cret-for-the-hook";

    static String url;
    static EpidemicAdmin admin;

    /** What the endpoint received: the raw body bytes and the headers that matter here. */
    record Request(byte[] body, String signature, String idempotencyKey, String contentType, String team, int answered) {
        JsonNode json() throws IOException {
            return JSON.readTree(body);
        }
    }

    HttpServer server;
    final List<Request> requests = new CopyOnWriteArrayList<>();
    volatile ToIntFunction<JsonNode> answer = body -> 200;

    @BeforeAll
    static void database() {
        url = TestDatabase.get().createDatabase();
        admin = EpidemicAdmin.create(url, null, null, "epidemic");
    }

    @BeforeEach
    void endpoint() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/hook", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            int status = answer.applyAsInt(JSON.readTree(body));
            requests.add(new Request(body, exchange.getRequestHeaders().getFirst("X-Epidemic-Signature"),
                    exchange.getRequestHeaders().getFirst("Idempotency-Key"), exchange.getRequestHeaders().getFirst("Content-Type"),
                    exchange.getRequestHeaders().getFirst("X-Team"), status));
            byte[] reply = (status == 200 ? "ok" : "no thanks").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, reply.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(reply);
            }
        });
        server.start();
    }

    @AfterEach
    void stopEndpoint() {
        server.stop(0);
    }

    private String config(String table, String webhookExtras, String retry) {
        Sql.exec(url, "CREATE TABLE " + table + " (id int PRIMARY KEY, amount int)");
        return """
                database: {url: '%s'}
                consumers:
                  - name: %s
                    tables:
                      - table: %s
                        sink:
                          webhook: {url: 'http://127.0.0.1:%d/hook', secret: %s, timeout: 5s%s}
                        retry: %s
                """.formatted(url, table, table, server.getAddress().getPort(), SECRET, webhookExtras, retry);
    }

    private static int rowOf(JsonNode change) {
        return change.get("key").get("id").asInt();
    }

    private List<Request> requestsFor(int row) {
        return requests.stream().filter(r -> {
            try {
                return rowOf(r.json()) == row;
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }).toList();
    }

    private static String hmac(byte[] body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
    }

    @Test
    void postsEachChangeSignedWithTheSecretAndKeyedByItsId() throws Exception {
        try (InProcessDaemon daemon = InProcessDaemon.start(config("payments", ", headers: {X-Team: billing}", "{attempts: 3}"))) {
            Sql.exec(url, "INSERT INTO payments VALUES (1, 100)", "UPDATE payments SET amount = 150 WHERE id = 1");
            await().atMost(WAIT).until(() -> requests.size() >= 2);
        }
        assertThat(requests).hasSize(2);
        for (Request request : requests) {
            JsonNode change = request.json();
            assertThat(request.signature()).as("signature over the exact body bytes").isEqualTo(hmac(request.body()));
            assertThat(request.idempotencyKey()).isEqualTo(change.get("id").asText());
            assertThat(request.contentType()).isEqualTo("application/json");
            assertThat(request.team()).isEqualTo("billing");
            assertThat(change.get("table").asText()).isEqualTo("public.payments");
        }
        assertThat(requests.get(0).json().get("op").asText()).isEqualTo("INSERT");
        assertThat(requests.get(1).json().get("op").asText()).isEqualTo("UPDATE");
        assertThat(requests.get(1).json().get("new").get("amount").asInt()).isEqualTo(150);
    }

    @Test
    void retriesAfter500AndDeliversWhenTheEndpointRecovers() throws Exception {
        answer = body -> requests.size() < 2 ? 500 : 200;
        try (InProcessDaemon daemon = InProcessDaemon.start(config("refunds", "", "{attempts: 5, backoff: 10ms, max-backoff: 50ms}"))) {
            Sql.exec(url, "INSERT INTO refunds VALUES (1, 100)");
            await().atMost(WAIT).until(() -> requests.stream().anyMatch(r -> r.answered() == 200));
        }
        assertThat(requests).extracting(Request::answered).containsExactly(500, 500, 200);
        assertThat(requests).extracting(Request::idempotencyKey).containsOnly(requests.get(0).idempotencyKey());
        assertThat(admin.deadLetters("refunds")).isEmpty();
    }

    @Test
    void deadLettersAChangeTheEndpointKeepsFailingOnAndGoesOn() throws Exception {
        answer = body -> rowOf(body) == 2 ? 503 : 200;
        try (InProcessDaemon daemon = InProcessDaemon.start(config("invoices", "", "{attempts: 3, backoff: 10ms, max-backoff: 50ms}"))) {
            Sql.exec(url, "INSERT INTO invoices VALUES (1, 10)", "INSERT INTO invoices VALUES (2, 20)", "INSERT INTO invoices VALUES (3, 30)");
            await().atMost(WAIT).until(() -> requestsFor(3).size() == 1);
        }
        assertThat(requestsFor(1)).extracting(Request::answered).containsExactly(200);
        assertThat(requestsFor(2)).extracting(Request::answered).containsExactly(503, 503, 503);
        List<DeadLetter> dead = admin.deadLetters("invoices");
        assertThat(dead).singleElement().satisfies(letter -> {
            assertThat(letter.change().key()).isEqualTo(Map.of("id", 2));
            assertThat(letter.attempts()).isEqualTo(3);
            assertThat(letter.error()).contains("answered 503").doesNotContain(SECRET);
            assertThat(letter.handler()).isEqualTo("dev.epidemic.cli.sink.WebhookSink");
        });
    }

    @Test
    void deadLettersAChangeRejectedWith4xxWithoutRetrying() throws Exception {
        answer = body -> rowOf(body) == 2 ? 422 : 200;
        try (InProcessDaemon daemon = InProcessDaemon.start(config("transfers", "", "{attempts: 5, backoff: 10ms}"))) {
            Sql.exec(url, "INSERT INTO transfers VALUES (1, 10)", "INSERT INTO transfers VALUES (2, 20)", "INSERT INTO transfers VALUES (3, 30)");
            await().atMost(WAIT).until(() -> requestsFor(3).size() == 1);
        }
        assertThat(requestsFor(2)).extracting(Request::answered).containsExactly(422);
        assertThat(admin.deadLetters("transfers")).singleElement().satisfies(letter -> {
            assertThat(letter.attempts()).isEqualTo(1);
            assertThat(letter.error()).isEqualTo("webhook http://127.0.0.1:" + server.getAddress().getPort() + "/hook answered 422: no thanks");
        });
    }

    @Test
    void postsCloudEventsWithTheirContentTypesOneByOneAndInBatches() throws Exception {
        // Given two webhook sinks in the cloudevents format, one sending each change, one batches
        Sql.exec(url, "CREATE TABLE parcels (id int PRIMARY KEY, weight int)");
        String hook = "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
        try (InProcessDaemon daemon = InProcessDaemon.start("""
                database: {url: '%s'}
                consumers:
                  - name: single-events
                    tables:
                      - table: parcels
                        sink: {webhook: {url: '%s', format: cloudevents}}
                  - name: batched-events
                    tables:
                      - table: parcels
                        sink: {webhook: {url: '%s', format: cloudevents, batch: 10}}
                """.formatted(url, hook, hook))) {
            // When two rows are inserted in one transaction
            Sql.exec(url, "INSERT INTO parcels VALUES (1, 5), (2, 7)");
            await().atMost(WAIT).until(() -> requests.size() >= 3);
        }

        // Then one sink posted two CloudEvents, the other one array of both
        List<Request> single = requests.stream().filter(r -> r.body()[0] == '{').toList();
        List<Request> batched = requests.stream().filter(r -> r.body()[0] == '[').toList();
        assertThat(single).hasSize(2).allSatisfy(request -> {
            assertThat(request.contentType()).isEqualTo("application/cloudevents+json");
            assertThat(request.json().get("type").asText()).isEqualTo("dev.epidemic.change.insert");
            assertThat(request.idempotencyKey()).isEqualTo(request.json().get("id").asText());
        });
        assertThat(batched).singleElement().satisfies(request -> {
            assertThat(request.contentType()).isEqualTo("application/cloudevents-batch+json");
            assertThat(request.json()).extracting(event -> event.get("data").get("key").get("id").asInt()).containsExactly(1, 2);
            assertThat(request.json()).extracting(event -> event.get("specversion").asText()).containsOnly("1.0");
        });
    }

    @Test
    void sendsBatchesAsJsonArraysKeyedByTheirFirstAndLastIds() throws Exception {
        try (InProcessDaemon daemon = InProcessDaemon.start(config("ledger", ", batch: 10", "{attempts: 3}"))) {
            Sql.exec(url, "INSERT INTO ledger SELECT g, g * 10 FROM generate_series(1, 5) g");
            await().atMost(WAIT).until(() -> requests.size() >= 1);
        }
        assertThat(requests).hasSize(1);
        JsonNode array = requests.get(0).json();
        assertThat(array.isArray()).isTrue();
        assertThat(array).extracting(WebhookSinkTest::rowOf).containsExactly(1, 2, 3, 4, 5);
        assertThat(requests.get(0).idempotencyKey()).isEqualTo(array.get(0).get("id").asText() + "-" + array.get(4).get("id").asText());
        assertThat(requests.get(0).signature()).isEqualTo(hmac(requests.get(0).body()));
    }
}
