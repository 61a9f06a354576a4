package dev.epidemic.chaos;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Proves catching up: the harness commits a probe row (retrying while the server restarts)
 * and waits for the consumer to report it delivered.
 * After the writers stop it is delivered after everything that committed before it.
 */
final class Probes {
    private final String url;
    private final ChaosDialect dialect;
    private final Path file;
    private final Map<Long, Long> seen = new HashMap<>();
    private long offset;
    private long nextId = -1;

    Probes(String url, ChaosDialect dialect, Path dir) {
        this.url = url;
        this.dialect = dialect;
        this.file = dir.resolve("probes.log");
    }

    /** Commits a probe row; returns its id, or 0 if the server did not take one within {@code timeout}. */
    synchronized long commit(Duration timeout) throws InterruptedException {
        long id = nextId--;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try (Connection c = DriverManager.getConnection(url)) {
                c.setAutoCommit(false);
                dialect.insert(c, -1, id, 1, "probe");
                dialect.recordCommit(c, -1, 1);
                c.commit();
                return id;
            } catch (SQLException e) {
                Thread.sleep(50); // the server is restarting
            }
        }
        return 0;
    }

    /** The time the consumer received probe {@code id}, waiting up to {@code timeout}; -1 if it did not. */
    long awaitSeen(long id, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Long at = read(id);
            if (at != null) {
                return at;
            }
            Thread.sleep(10);
        }
        return -1;
    }

    private synchronized Long read(long id) {
        try {
            if (Files.exists(file)) {
                try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
                    if (f.length() > offset) {
                        byte[] bytes = new byte[(int) (f.length() - offset)];
                        f.seek(offset);
                        f.readFully(bytes);
                        String text = new String(bytes, StandardCharsets.UTF_8);
                        int end = text.lastIndexOf('\n') + 1; // a line cut by a kill is read again later, whole or not at all
                        for (String line : text.substring(0, end).split("\n")) {
                            String[] parts = line.split(" ");
                            if (parts.length == 2) {
                                seen.putIfAbsent(Long.parseLong(parts[0]), Long.parseLong(parts[1]));
                            }
                        }
                        offset += text.substring(0, end).getBytes(StandardCharsets.UTF_8).length;
                    }
                }
            }
        } catch (IOException | NumberFormatException e) {
            // read again on the next poll
        }
        return seen.get(id);
    }
}
