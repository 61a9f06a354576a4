package dev.epidemic.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/** The printed table (Markdown, so that it can go into docs/benchmarks.md as it is) and the JSON file. */
final class Report {
    private Report() {
    }

    static void print(Results r, PrintStream out) {
        out.println();
        out.printf("Benchmark, %s run, %d round(s), %s; started %s%n", r.mode(), r.rounds(), r.server(), r.started());
        if (!r.debeziumServer().equals(r.server())) {
            out.printf("Debezium ran on %s%n", r.debeziumServer());
        }
        out.println("Each figure: median of the rounds (min-max). Ratios compare medians of this run.");
        out.println();
        if (!r.writer().isEmpty()) { // a part not run (bench --only) has no rows
            out.println("| writer overhead | clients | load | without capture, TPS | with capture, TPS | ratio | plain row trigger, TPS | its ratio |");
            out.println("|---|---|---|---|---|---|---|---|");
            for (Results.WriterRow w : r.writer()) {
                out.printf(Locale.ROOT, "| single-row %s | %d | %s | %s | %s | **%.2fx** | %s | %s |%n", w.operation(), w.clients(), w.load(),
                        fmt(w.withoutCapture(), 0), fmt(w.withCapture(), 0), w.ratio(),
                        w.withRowTrigger() == null ? "-" : fmt(w.withRowTrigger(), 0),
                        w.withRowTrigger() == null ? "-" : String.format(Locale.ROOT, "%.2fx", w.rowTriggerRatio()));
            }
            out.println();
        }
        if (!r.drain().isEmpty()) {
            out.printf("| drain of %,d changes | changes/s | vs Epidemic | start-up, ms | peak heap, MB | peak RSS, MB |%n", r.drain().get(0).changes());
            out.println("|---|---|---|---|---|---|");
            for (Results.DrainRow d : r.drain()) {
                out.printf(Locale.ROOT, "| %s | %s | %.2fx | %s | %s | %s |%n", d.system(), fmt(d.changesPerSecond(), 0), d.ratioToEpidemic(),
                        fmt(d.startupMs(), 0), fmt(d.peakHeapMb(), 0), fmt(d.peakRssMb(), 0));
            }
            out.println();
        }
        if (!r.latency().isEmpty()) {
            out.println("| latency, commit to handler | rate/s (achieved) | p50, ms | p99, ms | max, ms | p50 vs Epidemic | start-up, ms | peak heap, MB | peak RSS, MB |");
            out.println("|---|---|---|---|---|---|---|---|---|");
            for (Results.LatencyRow l : r.latency()) {
                out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %.2fx | %s | %s | %s |%n", l.system(),
                        l.rate() == 0 ? "one in flight (" + fmt(l.achievedRate(), 0) + " pings)" : l.rate() + " (" + fmt(l.achievedRate(), 0) + ")",
                        fmt(l.p50Ms(), 2), fmt(l.p99Ms(), 2), fmt(l.maxMs(), 1), l.p50RatioToEpidemic(),
                        fmt(l.startupMs(), 0), fmt(l.peakHeapMb(), 0), fmt(l.peakRssMb(), 0));
            }
            out.println();
        }
        if (!r.backfill().isEmpty()) {
            out.printf("| backfill of %,d existing rows | chunk | rows/s to the handler | rows/s into the log |%n", r.backfill().get(0).rows());
            out.println("|---|---|---|---|");
            for (Results.BackfillRow b : r.backfill()) {
                out.printf(Locale.ROOT, "| %s | %s | %s | %s |%n", b.system(), b.chunkSize() == 0 ? "-" : String.format(Locale.ROOT, "%,d", b.chunkSize()),
                        fmt(b.rowsPerSecond(), 0), fmt(b.loggedRowsPerSecond(), 0));
            }
            out.println();
        }
        if (!r.backfillWriters().isEmpty()) {
            out.println("| writers during a backfill | clients | load | without backfill, TPS | with backfill, TPS | ratio | backfill meanwhile, rows/s |");
            out.println("|---|---|---|---|---|---|---|");
            for (Results.BackfillWriterRow w : r.backfillWriters()) {
                out.printf(Locale.ROOT, "| single-row UPDATE, chunk %,d, %s | %d | %s | %s | %s | **%.2fx** | %s |%n", w.chunkSize(),
                        w.maxRate() == 0 ? "no rate limit" : String.format(Locale.ROOT, "--max-rate %,d", w.maxRate()), w.clients(), w.load(),
                        fmt(w.withoutBackfill(), 0), fmt(w.withBackfill(), 0), w.ratio(), fmt(w.backfillRowsPerSecond(), 0));
            }
        }
        out.println();
        r.notes().forEach(n -> out.println("- " + n));
        out.println();
    }

    /** "median (min-max)", or just the median for a single round; "-" where nothing was measured. */
    static String fmt(Figure f, int decimals) {
        if (f == null || Double.isNaN(f.median())) {
            return "-";
        }
        String pattern = "%,." + decimals + "f";
        String median = String.format(Locale.ROOT, pattern, f.median());
        if (f.rounds().size() < 2) {
            return median;
        }
        return median + " (" + String.format(Locale.ROOT, pattern, f.min()) + "-" + String.format(Locale.ROOT, pattern, f.max()) + ")";
    }

    static void writeJson(Results results, Path file) throws IOException {
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValue(file.toFile(), results);
    }
}
