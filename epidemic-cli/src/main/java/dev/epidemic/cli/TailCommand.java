package dev.epidemic.cli;

import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicException;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.api.StartFrom;
import dev.epidemic.format.ChangeFormat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code epidemic tail}: prints every change as one JSON line (in the {@code --format} chosen), as a durable consumer. The position is
 * stored only after a line was written, so a killed tail restarted under the same name loses nothing.
 */
@Command(name = "tail", mixinStandardHelpOptions = true,
        description = {"Prints each committed change as one JSON object per line on stdout, flushed per line.",
                "The consumer's position is durable: restarted under the same name, tail resumes after the last line written.",
                "SIGTERM or SIGINT stops it cleanly (exit 0) after storing its position."})
final class TailCommand implements Callable<Integer> {
    @ParentCommand
    EpidemicCommand epidemic;

    @Spec
    CommandSpec spec;

    @Option(names = "--consumer", paramLabel = "NAME", required = true,
            description = "The consumer's durable name: its position is kept under it.")
    String consumer;

    @Option(names = "--table", paramLabel = "TABLE",
            description = "Print only this watched table's changes; repeatable (default: every watched table).")
    List<String> tables = new ArrayList<>();

    @Option(names = "--from", paramLabel = "oldest|now|snapshot",
            description = {"Where a new consumer starts: at the oldest retained change (default), now, or with a snapshot:"
                    + " a READ of every current row of its tables, then every change after. An existing consumer resumes"
                    + " (and finishes a snapshot it had not finished)."})
    String from = "oldest";

    @Option(names = "--max", paramLabel = "N", description = "Exit after printing N changes.")
    Long max;

    @Option(names = "--idle-exit", paramLabel = "SECONDS",
            description = {"Exit 0 once the consumer has been caught up for SECONDS: every change committed so far printed,"
                    + " and nothing new for that long. A --from snapshot not yet fully logged is not idle; nor is reading and printing a backlog, however large, nor is"
                    + " standing by for another tail of the same consumer, or reconnecting."})
    Double idleExitSeconds;

    @Option(names = "--format", paramLabel = "epidemic|debezium|cloudevents",
            description = {"How each line is written: epidemic (default: id, txid, table, op, key, old, new, at), debezium"
                    + " (the envelope of Debezium's PostgreSQL connector, JSON schemas disabled), or cloudevents (a CloudEvent 1.0"
                    + " in JSON structured mode whose data is the epidemic line). See docs/formats.md."})
    String format = "epidemic";

    @Option(names = "--batch-size", paramLabel = "N", description = "Changes read, and positions stored, per batch (default 1000).")
    Integer batchSize;

    @Override
    public Integer call() throws Exception {
        StartFrom startFrom = startFrom();
        if (!ChangeFormat.NAMES.contains(format)) {
            throw new InvalidInputException("--format must be one of " + String.join(", ", ChangeFormat.NAMES) + ", not '" + format + "'");
        }
        if (max != null && max < 1) {
            throw new InvalidInputException("--max must be at least 1, not " + max);
        }
        if (idleExitSeconds != null && !(idleExitSeconds > 0 && idleExitSeconds < 1e9)) {
            throw new InvalidInputException("--idle-exit must be a positive number of seconds, not " + idleExitSeconds);
        }
        Database database = epidemic.database();
        database.checkReachable();

        Stopper stopper = new Stopper();
        JsonLinePrinter printer = new JsonLinePrinter(spec.commandLine().getOut(), ChangeFormat.named(format, database.dataSource()),
                max == null ? 0 : max, stopper);
        Epidemic.Builder builder = database.engine().consumer(consumer).startFrom(startFrom).handleEveryTable(tables, ChangeHandler.forEveryChange(printer));
        if (batchSize != null) {
            builder.batchSize(batchSize);
        }
        Epidemic engine = builder.build();
        stopper.attach(engine);

        ScheduledExecutorService idleWatch = idleExitSeconds == null ? null : watchIdleness(engine, stopper);
        try (StopOnSignal signals = StopOnSignal.install(stopper::requestStop)) {
            engine.run();
        } finally {
            if (idleWatch != null) {
                idleWatch.shutdownNow();
            }
        }
        if (printer.failedChange() != null) {
            throw new EpidemicException("cannot write to standard output; stopped before change " + printer.failedChange()
                    + ", which will be printed again");
        }
        return EpidemicCommand.OK;
    }

    private StartFrom startFrom() {
        StartFrom startFrom = StartPoints.parse(from);
        if (startFrom == null) {
            throw new InvalidInputException("--from must be " + StartPoints.CHOICES + ", not '" + from + "'");
        }
        return startFrom;
    }

    /** Checks a few times a second whether the consumer has been caught up for --idle-exit seconds, and if so stops. */
    private ScheduledExecutorService watchIdleness(Epidemic engine, Stopper stopper) {
        long idleNanos = (long) (idleExitSeconds * 1e9);
        long periodMillis = Math.max(10, Math.min(100, idleNanos / 4_000_000));
        ScheduledExecutorService watch = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "epidemic-idle-exit");
            thread.setDaemon(true);
            return thread;
        });
        watch.scheduleWithFixedDelay(() -> {
            if (engine.caughtUpFor().toNanos() >= idleNanos) {
                stopper.requestStop();
            }
        }, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
        return watch;
    }
}
