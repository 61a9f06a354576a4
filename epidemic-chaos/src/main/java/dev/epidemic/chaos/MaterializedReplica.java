package dev.epidemic.chaos;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The table as a consumer that applies every change it is handed would hold it: the delivered lines in
 * the order they were delivered (file after file, line after line, redeliveries included, as a consumer
 * applies them), READ, INSERT and UPDATE making the row what the change says, DELETE removing it,
 * TRUNCATE emptying the table. A line a kill cut short was not handed over, and is skipped.
 */
final class MaterializedReplica {
    private final Map<Long, Integer> rows = new HashMap<>();
    private final Set<Long> reads = new HashSet<>();

    private MaterializedReplica() {
    }

    static MaterializedReplica of(List<Path> deliveredFiles) {
        MaterializedReplica replica = new MaterializedReplica();
        for (Path file : deliveredFiles) {
            replica.apply(file);
        }
        return replica;
    }

    /** Row id to version. */
    Map<Long, Integer> rows() {
        return rows;
    }

    /** Distinct READ changes delivered. */
    long reads() {
        return reads.size();
    }

    /** Compares with the table's rows (id to version) as they are. */
    BackfillFigures compareWith(Map<Long, Integer> table, int kills, int instances, int unexpectedExits, String lastUnexpectedError,
                                boolean finished, long tookMillis) {
        long missing = 0;
        long stale = 0;
        for (Map.Entry<Long, Integer> row : table.entrySet()) {
            Integer version = rows.get(row.getKey());
            if (version == null) {
                missing++;
            } else if (!version.equals(row.getValue())) {
                stale++;
            }
        }
        long extra = rows.keySet().stream().filter(id -> !table.containsKey(id)).count();
        return new BackfillFigures(table.size(), rows.size(), reads(), missing, stale, extra, kills, instances, unexpectedExits,
                lastUnexpectedError, finished, tookMillis);
    }

    private void apply(Path file) {
        if (!Files.exists(file)) {
            return;
        }
        boolean lastLineComplete = endsWithNewline(file);
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line = reader.readLine();
            while (line != null) {
                String next = reader.readLine();
                if (next != null || lastLineComplete) {
                    apply(line);
                }
                line = next;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** One line of {@link DeliveredLine}: change id, txid, operation letter, row id, version, received. */
    private void apply(String line) {
        String[] fields = line.split("\t");
        if (fields.length != 6) {
            return; // the blank line that starts a file after a kill, should there be one
        }
        switch (fields[2].charAt(0)) {
            case 'T' -> rows.clear();
            case 'D' -> rows.remove(Long.parseLong(fields[3]));
            case 'R', 'I', 'U' -> {
                rows.put(Long.parseLong(fields[3]), Integer.parseInt(fields[4]));
                if (fields[2].charAt(0) == 'R') {
                    reads.add(Long.parseLong(fields[0]));
                }
            }
            default -> throw new IllegalStateException("unknown operation in delivered line: " + line);
        }
    }

    private static boolean endsWithNewline(Path path) {
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "r")) {
            if (f.length() == 0) {
                return true;
            }
            f.seek(f.length() - 1);
            return f.read() == '\n';
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
