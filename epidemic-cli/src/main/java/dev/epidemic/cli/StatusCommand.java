package dev.epidemic.cli;

import dev.epidemic.api.BackfillStatus;
import dev.epidemic.api.ConsumerStatus;
import dev.epidemic.api.EpidemicAdmin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code epidemic status}: how far behind each consumer is. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Shows per consumer how many committed changes it has not been handed yet, and the age of the oldest.",
                "Below, each unfinished backfill: its table, the consumers it is for, rows logged of the estimate, when it started and logged its last chunk.",
                "A table whose capture is broken (a capture trigger or column dropped) is reported on stderr with its repair; the exit code is then 1."})
final class StatusCommand implements Callable<Integer> {
    private static final String[] HEADER = {"CONSUMER", "PENDING", "OLDEST PENDING AGE (s)"};
    private static final String[] BACKFILL_HEADER = {"BACKFILL", "TABLE", "FOR", "DONE", "OF ~", "STARTED", "LAST CHUNK"};

    @ParentCommand
    EpidemicCommand epidemic;

    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = {"Print a JSON array of {consumer, pending, oldest_pending_age_seconds, backfills}:"
            + " backfills are the unfinished ones the consumer receives, each {id, table, rows_done, rows_estimate (null if unknown),"
            + " where, started_at, updated_at}."})
    boolean json;

    @Override
    public Integer call() {
        EpidemicAdmin admin = epidemic.database().admin();
        List<ConsumerStatus> consumers = admin.status();
        List<BackfillStatus> backfills = unfinishedBackfills(admin);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(consumers.stream().map(status -> asJson(status, backfills)).toList()));
        } else {
            printTable(out, consumers);
            if (!backfills.isEmpty()) {
                out.println();
                printBackfills(out, backfills);
            }
        }
        out.flush();
        return BrokenCapture.report(admin, spec.commandLine().getErr());
    }

    private static List<BackfillStatus> unfinishedBackfills(EpidemicAdmin admin) {
        return admin.unfinishedBackfills();
    }

    private static Map<String, Object> asJson(ConsumerStatus status, List<BackfillStatus> backfills) {
        Map<String, Object> object = new LinkedHashMap<>();
        object.put("consumer", status.name());
        object.put("pending", status.pending());
        object.put("oldest_pending_age_seconds", seconds(status.oldestPendingAge()));
        object.put("backfills", backfills.stream().filter(backfill -> backfill.consumers().contains(status.name()))
                .map(StatusCommand::asJson).toList());
        return object;
    }

    private static Map<String, Object> asJson(BackfillStatus backfill) {
        Map<String, Object> object = new LinkedHashMap<>();
        object.put("id", backfill.id());
        object.put("table", backfill.table());
        object.put("rows_done", backfill.rowsDone());
        object.put("rows_estimate", backfill.rowsEstimate() < 0 ? null : backfill.rowsEstimate());
        object.put("where", backfill.where());
        object.put("started_at", backfill.startedAt().toString());
        object.put("updated_at", backfill.updatedAt() == null ? null : backfill.updatedAt().toString());
        return object;
    }

    /** Seconds with millisecond precision, or null when nothing is pending. */
    private static BigDecimal seconds(Duration age) {
        return age == null ? null : BigDecimal.valueOf(Math.max(0, age.toMillis()), 3);
    }

    private static void printBackfills(PrintWriter out, List<BackfillStatus> backfills) {
        List<String[]> rows = new ArrayList<>();
        rows.add(BACKFILL_HEADER);
        for (BackfillStatus backfill : backfills) {
            rows.add(new String[] {Long.toString(backfill.id()), backfill.table(), String.join(",", backfill.consumers()),
                    Long.toString(backfill.rowsDone()), backfill.rowsEstimate() < 0 ? "?" : Long.toString(backfill.rowsEstimate()),
                    time(backfill.startedAt()), time(backfill.updatedAt())});
        }
        int[] widths = widths(rows);
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                // Names left-aligned, counts right-aligned under their headings.
                boolean number = i == 0 || i == 3 || i == 4;
                line.append(String.format("%" + (number ? "" : "-") + widths[i] + "s", row[i])).append("  ");
            }
            out.println(line.toString().stripTrailing());
        }
    }

    /** To the second, in UTC, as ISO-8601 shows it. */
    private static String time(Instant instant) {
        return instant == null ? "-" : instant.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    private static int[] widths(List<String[]> rows) {
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        return widths;
    }

    private static void printTable(PrintWriter out, List<ConsumerStatus> consumers) {
        List<String[]> rows = new ArrayList<>();
        rows.add(HEADER);
        for (ConsumerStatus status : consumers) {
            BigDecimal age = seconds(status.oldestPendingAge());
            rows.add(new String[] {status.name(), Long.toString(status.pending()), age == null ? "-" : age.toPlainString()});
        }
        int[] widths = new int[HEADER.length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            // The name is left-aligned, the numbers right-aligned under their headings.
            out.println(String.format("%-" + widths[0] + "s  %" + widths[1] + "s  %" + widths[2] + "s", (Object[]) row).stripTrailing());
        }
    }
}
