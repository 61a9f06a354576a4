package dev.epidemic.cli;

import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.ConsumerStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code epidemic status}: how far behind each consumer is. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Shows per consumer how many committed changes it has not been handed yet, and the age of the oldest.",
                "A table whose capture is broken (a capture trigger or column dropped) is reported on stderr with its repair; the exit code is then 1."})
final class StatusCommand implements Callable<Integer> {
    private static final String[] HEADER = {"CONSUMER", "PENDING", "OLDEST PENDING AGE (s)"};

    @ParentCommand
    EpidemicCommand epidemic;

    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print a JSON array of {consumer, pending, oldest_pending_age_seconds}.")
    boolean json;

    @Override
    public Integer call() {
        EpidemicAdmin admin = epidemic.database().admin();
        List<ConsumerStatus> consumers = admin.status();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(consumers.stream().map(StatusCommand::asJson).toList()));
        } else {
            printTable(out, consumers);
        }
        out.flush();
        return BrokenCapture.report(admin, spec.commandLine().getErr());
    }

    private static Map<String, Object> asJson(ConsumerStatus status) {
        Map<String, Object> object = new LinkedHashMap<>();
        object.put("consumer", status.name());
        object.put("pending", status.pending());
        object.put("oldest_pending_age_seconds", seconds(status.oldestPendingAge()));
        return object;
    }

    /** Seconds with millisecond precision, or null when nothing is pending. */
    private static BigDecimal seconds(Duration age) {
        return age == null ? null : BigDecimal.valueOf(Math.max(0, age.toMillis()), 3);
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
