package dev.epidemic.chaos;

import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.FailurePolicy;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;

/**
 * The consumer under test, run as a JVM of its own so that it can be killed with SIGKILL. It appends
 * every delivered change to {@code delivered-N.tsv} and flushes before its handler returns, so a line
 * in the file is a change that was handed over (a kill may cut the last line short; the verdict skips
 * it). At random its handler throws, before writing (a plain failure, retried) or after (the change
 * was handled but the handler failed anyway: it will be delivered twice).
 *
 * <p>Arguments: JDBC URL, Epidemic's schema, work directory, instance number, probability of a throw per change, seed.
 */
public final class ChaosConsumer {
    static final String NAME = "chaos";

    private final OutputStream delivered;
    private final OutputStream probes;
    private final OutputStream events;
    private final Random random;
    private final double throwRate;
    private long failedAtMillis;

    private ChaosConsumer(Path dir, int instance, double throwRate, long seed) throws IOException {
        this.delivered = new FileOutputStream(dir.resolve(String.format("delivered-%05d.tsv", instance)).toFile(), true);
        this.probes = new FileOutputStream(dir.resolve("probes.log").toFile(), true);
        this.events = new FileOutputStream(dir.resolve("events.log").toFile(), true);
        this.random = new Random(seed);
        // Starts a fresh line in the shared files, should the previous instance have been killed mid-line.
        write(probes, "\n");
        write(events, "\n");
        this.throwRate = throwRate;
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String schema = args[1];
        ChaosConsumer consumer = new ChaosConsumer(Path.of(args[2]), Integer.parseInt(args[3]), Double.parseDouble(args[4]),
                Long.parseLong(args[5]));
        // Enough attempts that a run of random failures never exhausts them: a dead letter would be a loss.
        Epidemic epidemic = Epidemic.builder(url, null, null)
                .schema(schema)
                .consumer(NAME)
                .failurePolicy(FailurePolicy.deadLetterAfter(1000).withBackoff(Duration.ofMillis(5), Duration.ofMillis(100)))
                .handleEveryTable(List.of(), ChangeHandler.forEveryChange(consumer::handle))
                .build();
        Runtime.getRuntime().addShutdownHook(new Thread(epidemic::close));
        epidemic.run();
    }

    private void handle(Change change) throws IOException {
        if (random.nextDouble() < throwRate) {
            fail("before writing");
        }
        long now = System.currentTimeMillis();
        write(delivered, DeliveredLine.of(change, now));
        if (DeliveredLine.isProbe(change)) {
            write(probes, change.key().get("id") + " " + now + "\n");
        }
        if (failedAtMillis != 0) {
            write(events, "handler " + (now - failedAtMillis) + "\n");
            failedAtMillis = 0;
        }
        if (random.nextDouble() < throwRate / 4) {
            fail("after writing");
        }
    }

    private void fail(String when) {
        if (failedAtMillis == 0) {
            failedAtMillis = System.currentTimeMillis();
        }
        throw new IllegalStateException("chaos: the handler throws " + when);
    }

    private static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
