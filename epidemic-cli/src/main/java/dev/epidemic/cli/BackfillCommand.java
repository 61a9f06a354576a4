package dev.epidemic.cli;

import dev.epidemic.api.BackfillStatus;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.EpidemicException;
import dev.epidemic.api.InvalidInputException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code epidemic backfill}: logs every current row of a table as a READ change for some consumers, in
 * chunks, in the foreground. Each chunk is its own transaction, so a run that is killed loses at most the
 * chunk in hand, and the same command run again resumes after the last chunk logged.
 */
@Command(name = "backfill", mixinStandardHelpOptions = true,
        description = {"Delivers every current row of TABLE to consumers as READ changes (\"op\":\"READ\", \"old\":null),"
                + " ordered with live changes; returns once every row is in the log.",
                "Progress goes to stderr: a bar on a terminal, else a line every 5 seconds; the last line, on stdout, says how many rows and how long.",
                "Killed, it resumes when run again with the same arguments. SIGTERM or SIGINT stops it after the chunk in hand:"
                        + " exit 1, with a line saying how far it got and how to resume."})
final class BackfillCommand implements Callable<Integer> {
    @ParentCommand
    EpidemicCommand epidemic;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TABLE", description = "A watched table, optionally schema-qualified.")
    String table;

    @Option(names = "--consumer", paramLabel = "NAME",
            description = "A consumer to receive the rows; repeatable (default: every consumer that exists when the backfill starts).")
    List<String> consumers = new ArrayList<>();

    @Option(names = "--where", paramLabel = "PREDICATE",
            description = "Only the rows matching this condition on the table's columns, e.g. \"created_at > '2024-01-01'\".")
    String where;

    @Option(names = "--chunk", paramLabel = "N",
            description = "Rows logged per transaction (default " + EpidemicAdmin.DEFAULT_CHUNK_SIZE + "): a writer waits at most one chunk for a row.")
    int chunk = EpidemicAdmin.DEFAULT_CHUNK_SIZE;

    @Option(names = "--max-rate", paramLabel = "ROWS",
            description = "Log at most ROWS rows a second on average (default: as fast as it can). An unlimited backfill takes a"
                    + " core of its own; on a busy server, a limit leaves the application's writers their share.")
    long maxRate;

    private volatile boolean stopRequested;
    private volatile BackfillStatus latest;

    @Override
    public Integer call() {
        if (chunk < 1) {
            throw new InvalidInputException("--chunk must be at least 1, not " + chunk);
        }
        if (maxRate < 1 && spec.commandLine().getParseResult().hasMatchedOption("--max-rate")) {
            throw new InvalidInputException("--max-rate must be at least 1 row a second, not " + maxRate);
        }
        EpidemicAdmin admin = epidemic.database().admin();
        PrintWriter err = spec.commandLine().getErr();
        Set<Long> unfinishedBefore = admin.unfinishedBackfills().stream().map(BackfillStatus::id).collect(Collectors.toSet());
        BackfillProgress progress = BackfillProgress.on(err, epidemic.environment());

        Thread runner = Thread.currentThread();
        BackfillStatus result;
        try (StopOnSignal signals = StopOnSignal.install(() -> {
            // The core checks for an interrupt between chunks: the chunk in hand is committed first.
            stopRequested = true;
            runner.interrupt();
        })) {
            result = admin.backfill(table, consumers, where, chunk, maxRate, status -> {
                if (latest == null) {
                    progress.begin(status, unfinishedBefore.contains(status.id()));
                }
                latest = status;
                progress.update(status);
            });
        } catch (EpidemicException e) {
            if (!stopRequested) {
                throw e;
            }
            result = latest; // stopped while pausing for busy rows: the chunks logged so far stay logged
        } finally {
            Thread.interrupted(); // a signal's interrupt must not outlive the backfill
        }

        if (result == null) {
            err.println("epidemic: backfill of " + table + " stopped before it began; run the same command again to start it");
            return EpidemicCommand.FAILURE;
        }
        progress.end(result);
        if (!result.finished()) {
            err.println("epidemic: backfill " + result.id() + " of " + result.table() + " stopped unfinished at " + result.rowsDone()
                    + " rows; run the same command again to resume it");
            err.flush();
            return EpidemicCommand.FAILURE;
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println("backfilled " + result.rowsDone() + " rows of " + result.table() + " for " + String.join(", ", result.consumers())
                + " in " + seconds(progress.elapsed().toMillis()) + " (backfill " + result.id() + ")");
        out.flush();
        return EpidemicCommand.OK;
    }

    private static String seconds(long millis) {
        return String.format(Locale.ROOT, "%.1fs", millis / 1000.0);
    }
}
