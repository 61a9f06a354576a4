package dev.epidemic.cli;

import dev.epidemic.cli.daemon.ConfigLoader;
import dev.epidemic.cli.daemon.Daemon;
import dev.epidemic.cli.daemon.DaemonPlan;
import dev.epidemic.cli.daemon.Planner;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** The daemon of {@code epidemic run}, planned from a YAML text and run in this JVM, stopped by {@link #close()}. */
final class InProcessDaemon implements AutoCloseable {
    private final Daemon daemon;
    private final CompletableFuture<Daemon.Outcome> outcome = new CompletableFuture<>();
    final StringWriter stdout = new StringWriter();

    private InProcessDaemon(String yaml) {
        DaemonPlan plan = Planner.plan(ConfigLoader.parse(yaml, Map.of()), null, new PrintWriter(stdout, true), connection -> {
        });
        daemon = new Daemon(plan);
        daemon.start();
        Thread waiter = new Thread(() -> {
            try {
                outcome.complete(daemon.awaitEnd());
            } catch (Throwable e) {
                outcome.completeExceptionally(e);
            }
        }, "daemon-await-end");
        waiter.setDaemon(true);
        waiter.start();
    }

    static InProcessDaemon start(String yaml) {
        return new InProcessDaemon(yaml);
    }

    @Override
    public void close() throws Exception {
        daemon.requestStop();
        outcome.get(60, TimeUnit.SECONDS);
    }
}
