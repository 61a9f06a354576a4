package dev.epidemic.cli;

import dev.epidemic.api.BackfillStatus;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The progress of {@code epidemic backfill} on stderr: a bar redrawn in place (rows done, estimated total,
 * rate, time left) when stderr is a terminal, else a plain line every few seconds, which a log file or a CI
 * job can keep. Hand-made: a one-line bar needs nothing a terminal library would add.
 */
final class BackfillProgress {
    private static final long BAR_REDRAW_NANOS = 100_000_000L;
    private static final long LINE_EVERY_NANOS = 5_000_000_000L;
    private static final int BAR_CELLS = 24;

    private final PrintWriter err;
    private final boolean terminal;
    private final int width;
    private final LongSupplier clock;
    private final long startNanos;
    private long startRows = -1;
    private long lastShownNanos;
    private int drawnLength;

    BackfillProgress(PrintWriter err, boolean terminal, int width, LongSupplier clock) {
        this.err = err;
        this.terminal = terminal;
        this.width = width;
        this.clock = clock;
        this.startNanos = clock.getAsLong();
        this.lastShownNanos = startNanos;
    }

    /** Progress on {@code err}, as a bar when the process's stderr is a terminal that can redraw a line. */
    static BackfillProgress on(PrintWriter err, Map<String, String> environment) {
        String term = environment.getOrDefault("TERM", "");
        boolean terminal = stderrIsTerminal() && !term.isEmpty() && !term.equals("dumb");
        int width = 80;
        try {
            width = Math.max(40, Integer.parseInt(environment.getOrDefault("COLUMNS", "80").strip()));
        } catch (NumberFormatException notANumber) {
            // keep 80
        }
        return new BackfillProgress(err, terminal, width, System::nanoTime);
    }

    /**
     * Java 17 can only tell whether stdin and stdout are a terminal; on Linux the link of file descriptor 2
     * says where stderr goes. Elsewhere, stdout's console stands in for it.
     */
    private static boolean stderrIsTerminal() {
        Path fd = Path.of("/proc/self/fd/2");
        try {
            String target = Files.readSymbolicLink(fd).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException | SecurityException noProc) {
            return System.console() != null;
        }
    }

    /** Names the backfill on a line of its own, once, when it begins: the bar below then needs no name. */
    void begin(BackfillStatus status, boolean resuming) {
        startRows = status.rowsDone();
        String estimate = status.rowsEstimate() < 0 ? "" : " (~" + status.rowsEstimate() + " rows in all)";
        err.println((resuming ? "resuming backfill " + status.id() + " of " + status.table() + " at " + status.rowsDone() + " rows"
                : "backfill " + status.id() + " of " + status.table()) + " for " + String.join(", ", status.consumers()) + estimate);
        err.flush();
    }

    /** After each chunk. */
    void update(BackfillStatus status) {
        long now = clock.getAsLong();
        if (terminal) {
            if (now - lastShownNanos >= BAR_REDRAW_NANOS || drawnLength == 0) {
                draw(bar(status, now));
                lastShownNanos = now;
            }
        } else if (now - lastShownNanos >= LINE_EVERY_NANOS) {
            err.println(line(status, now));
            err.flush();
            lastShownNanos = now;
        }
    }

    /** Shows the last state once more and ends the bar's line, so that what follows starts on a line of its own. */
    void end(BackfillStatus status) {
        long now = clock.getAsLong();
        if (terminal) {
            draw(bar(status, now));
            err.println();
            err.flush();
            drawnLength = 0;
        } else if (!status.finished()) {
            err.println(line(status, now));
            err.flush();
        }
    }

    /** Time since this run began. */
    Duration elapsed() {
        return Duration.ofNanos(clock.getAsLong() - startNanos);
    }

    private void draw(String text) {
        String shown = text.length() > width - 1 ? text.substring(0, width - 1) : text;
        // \r returns to the line's start; spaces erase what a longer earlier drawing left.
        err.print("\r" + shown + " ".repeat(Math.max(0, drawnLength - shown.length())));
        err.flush();
        drawnLength = shown.length();
    }

    String bar(BackfillStatus status, long now) {
        long total = total(status);
        StringBuilder text = new StringBuilder("[");
        int filled = total <= 0 ? 0 : (int) Math.min(BAR_CELLS, status.rowsDone() * BAR_CELLS / total);
        if (status.finished()) {
            filled = BAR_CELLS;
        }
        text.append("#".repeat(filled)).append("-".repeat(BAR_CELLS - filled)).append("] ");
        text.append(status.rowsDone()).append(" / ").append(total < 0 ? "?" : "~" + total).append(" rows");
        appendRateAndTimeLeft(text, status, now, total);
        return text.toString();
    }

    String line(BackfillStatus status, long now) {
        long total = total(status);
        StringBuilder text = new StringBuilder("backfill ").append(status.id()).append(" of ").append(status.table()).append(": ")
                .append(status.rowsDone()).append(" of ").append(total < 0 ? "?" : "~" + total).append(" rows");
        appendRateAndTimeLeft(text, status, now, total);
        return text.toString();
    }

    /** The estimate, never below what is done: the planner's count may be older than the table. */
    private static long total(BackfillStatus status) {
        if (status.finished()) {
            return status.rowsDone();
        }
        return status.rowsEstimate() < 0 ? -1 : Math.max(status.rowsEstimate(), status.rowsDone());
    }

    private void appendRateAndTimeLeft(StringBuilder text, BackfillStatus status, long now, long total) {
        double seconds = (now - startNanos) / 1e9;
        long rowsThisRun = status.rowsDone() - Math.max(0, startRows);
        if (seconds < 0.5 || rowsThisRun <= 0) {
            return;
        }
        double rate = rowsThisRun / seconds;
        text.append(", ").append(Math.round(rate)).append(" rows/s");
        if (total >= 0 && !status.finished()) {
            long left = Math.round(Math.max(0, total - status.rowsDone()) / rate);
            text.append(", ~").append(clock(left)).append(" left");
        }
    }

    /** H:MM:SS or M:SS. */
    static String clock(long seconds) {
        long hours = seconds / 3600;
        long minutes = seconds / 60 % 60;
        long secs = seconds % 60;
        return hours > 0 ? String.format("%d:%02d:%02d", hours, minutes, secs) : String.format("%d:%02d", minutes, secs);
    }
}
