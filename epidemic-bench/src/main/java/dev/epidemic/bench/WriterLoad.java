package dev.epidemic.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Single-row write transactions from N concurrent clients, TPS out: pgbench when it is installed (a
 * client in C, so the figure is the server's, not the load generator's), else the same load from Java
 * threads over JDBC.
 */
public interface WriterLoad {
    /** Rows 1..UPDATE_ROWS exist in every table the UPDATE workload touches. */
    int UPDATE_ROWS = 10_000;

    String name();

    /** TPS of {@code clients} clients each doing single-row {@code op} transactions on {@code table}. */
    default double tps(PgUrl db, String table, String op, int clients, Mode mode) throws Exception {
        return tps(db, table, op, clients, mode, UPDATE_ROWS);
    }

    /** The same, an UPDATE picking a random row of ids 1..{@code rows}. */
    double tps(PgUrl db, String table, String op, int clients, Mode mode, int rows) throws Exception;

    static String statement(String table, String op, String idParameter) {
        return switch (op) {
            case "INSERT" -> "INSERT INTO " + table + " (name, qty) VALUES ('user', 42)";
            case "UPDATE" -> "UPDATE " + table + " SET qty = qty + 1 WHERE id = " + idParameter;
            default -> throw new IllegalArgumentException(op);
        };
    }

    /** pgbench from PATH or the PostgreSQL 15 installation, if either is there. */
    static Optional<WriterLoad> pgbench() {
        for (String candidate : List.of("/usr/lib/postgresql/15/bin/pgbench", "/usr/bin/pgbench", "/usr/local/bin/pgbench")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return Optional.of(new Pgbench(candidate));
            }
        }
        return Optional.empty();
    }

    /** pgbench with a custom script, prepared statements, one pgbench thread per core at most. */
    record Pgbench(String executable) implements WriterLoad {
        private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+) \\((?:without initial connection time|excluding connections establishing)\\)");

        @Override
        public String name() {
            return "pgbench";
        }

        @Override
        public double tps(PgUrl db, String table, String op, int clients, Mode mode, int rows) throws Exception {
            Path script = Files.createTempFile("bench-", ".sql");
            try {
                String body = op.equals("UPDATE")
                        ? "\\set id random(1, " + rows + ")\n" + statement(table, op, ":id") + ";\n"
                        : statement(table, op, null) + ";\n";
                Files.writeString(script, body);
                List<String> command = new ArrayList<>(List.of(executable, "-n", "-M", "prepared",
                        "-h", db.host(), "-p", String.valueOf(db.port()), "-U", db.user(),
                        "-c", String.valueOf(clients), "-j", String.valueOf(Math.min(clients, Runtime.getRuntime().availableProcessors())),
                        "-f", script.toString()));
                if (mode.writerSeconds() > 0) {
                    command.addAll(List.of("-T", String.valueOf(mode.writerSeconds())));
                } else {
                    command.addAll(List.of("-t", String.valueOf(mode.writerTransactions())));
                }
                command.add(db.database());
                ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
                if (!db.password().isEmpty()) {
                    pb.environment().put("PGPASSWORD", db.password());
                }
                Process p = pb.start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                int exit = p.waitFor();
                Matcher m = TPS.matcher(out);
                if (exit != 0 || !m.find()) {
                    throw new IOException("pgbench failed (exit " + exit + "): " + out);
                }
                return Double.parseDouble(m.group(1));
            } finally {
                Files.deleteIfExists(script);
            }
        }
    }

    /** The same load from Java: one thread and one connection per client, autocommit, prepared statements. */
    record Java() implements WriterLoad {
        @Override
        public String name() {
            return "java";
        }

        @Override
        public double tps(PgUrl db, String table, String op, int clients, Mode mode, int rows) throws Exception {
            long durationNanos = mode.writerSeconds() > 0 ? mode.writerSeconds() * 1_000_000_000L : 0;
            LongAdder done = new LongAdder();
            CountDownLatch ready = new CountDownLatch(clients);
            List<Thread> threads = new ArrayList<>();
            List<Exception> failures = new ArrayList<>();
            long[] window = new long[2];
            for (int i = 0; i < clients; i++) {
                Thread t = new Thread(() -> {
                    try (Connection c = db.connect();
                         PreparedStatement ps = c.prepareStatement(statement(table, op, "?"))) {
                        ready.countDown();
                        ready.await();
                        long until = System.nanoTime() + durationNanos;
                        for (int n = 0; durationNanos > 0 ? System.nanoTime() < until : n < mode.writerTransactions(); n++) {
                            if (op.equals("UPDATE")) {
                                ps.setInt(1, ThreadLocalRandom.current().nextInt(1, rows + 1));
                            }
                            ps.executeUpdate();
                            done.increment();
                        }
                    } catch (Exception e) {
                        synchronized (failures) {
                            failures.add(e);
                        }
                    }
                }, "writer-" + i);
                threads.add(t);
                t.start();
            }
            ready.await();
            window[0] = System.nanoTime();
            for (Thread t : threads) {
                t.join();
            }
            window[1] = System.nanoTime();
            if (!failures.isEmpty()) {
                throw failures.get(0);
            }
            return done.sum() / ((window[1] - window[0]) / 1e9);
        }
    }
}
