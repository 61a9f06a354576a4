package dev.epidemic.chaos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * {@code scripts/chaos.sh [--seconds N] [--writers N] [--seed N] [--backfill-rows N] [--url JDBC_URL | --mariadb] [--keep]}:
 * runs the chaos harness and prints its verdict. Exit code 0 when the verdict is clean, 1 when anything was lost,
 * invented, reordered or not recovered from, 2 for bad arguments.
 *
 * <p>Without --url the harness starts an embedded PostgreSQL of its own, which it also restarts as a
 * fault. With --url (a server URL naming an existing database to connect to, e.g.
 * {@code jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres}) it creates a database of its own on
 * that server and never restarts the server. A MariaDB URL ({@code jdbc:mariadb://127.0.0.1:3306/?user=root},
 * which {@code --mariadb} stands for) gets two databases and a consumer user of the run's own, and no
 * TRUNCATEs, which MariaDB cannot capture.
 *
 * <p>The table holds {@code --backfill-rows} rows (200,000; 0 for none) before the consumer exists, and a
 * backfill JVM, killed with SIGKILL among the other faults, delivers them; the run lasts until it is done.
 */
public final class Chaos {
    private static final String LOCAL_MARIADB = "jdbc:mariadb://127.0.0.1:3306/?user=root";
    private Chaos() {
    }

    public static void main(String[] args) throws Exception {
        long seconds = 600;
        int writers = 8;
        Long seed = null;
        int backfillRows = ChaosOptions.BACKFILL_ROWS;
        String url = null;
        boolean keep = false;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--seconds" -> seconds = number(args, ++i);
                    case "--writers" -> writers = (int) number(args, ++i);
                    case "--seed" -> seed = number(args, ++i);
                    case "--backfill-rows" -> backfillRows = (int) number(args, ++i);
                    case "--url" -> url = args[++i];
                    case "--mariadb" -> url = LOCAL_MARIADB;
                    case "--keep" -> keep = true;
                    case "--help", "-h" -> {
                        System.out.println("usage: scripts/chaos.sh [--seconds N (600)] [--writers N (8)] [--seed N]"
                                + " [--backfill-rows N (" + ChaosOptions.BACKFILL_ROWS + ", 0 = none)] [--url JDBC_URL | --mariadb (= --url " + LOCAL_MARIADB + ")] [--keep]");
                        return;
                    }
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
            if (seconds < 1 || writers < 1) {
                throw new IllegalArgumentException("--seconds and --writers must be at least 1");
            }
            if (backfillRows < 0) {
                throw new IllegalArgumentException("--backfill-rows must be 0 or more");
            }
        } catch (RuntimeException e) {
            System.err.println("chaos: " + (e instanceof ArrayIndexOutOfBoundsException ? "an option lacks its value" : e.getMessage()));
            System.exit(2);
        }
        Path workDir = Files.createTempDirectory("epidemic-chaos");
        ChaosOptions options = ChaosOptions.defaults(Duration.ofSeconds(seconds), workDir);
        Mix mix = url != null && MariaDbServerTarget.accepts(url) ? Mix.mariaDb() : options.mix();
        options = new ChaosOptions(options.duration(), writers, url, workDir, mix, options.handlerThrowRate(),
                options.faultGapMillis(), seed == null ? options.seed() : seed, backfillRows, options.backfillChunk());
        System.err.println("chaos: " + seconds + " s, " + writers + " writers, seed " + options.seed() + ", files in " + workDir
                + (backfillRows > 0 ? ", " + backfillRows + " rows to backfill" : "")
                + (url == null ? ", embedded PostgreSQL" : ", server " + url.replaceAll("(?i)(password=)[^&]*", "$1***")));
        Verdict verdict = new ChaosRun(options).run();
        System.out.print(verdict.report());
        if (!keep && verdict.clean()) {
            deleteQuietly(workDir);
        } else {
            System.err.println("chaos: files kept in " + workDir);
        }
        System.exit(verdict.clean() ? 0 : 1);
    }

    private static long number(String[] args, int i) {
        try {
            return Long.parseLong(args[i]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(args[i - 1] + " needs a whole number, not '" + args[i] + "'");
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("chaos: could not remove " + dir + ": " + e.getMessage());
        }
    }
}
