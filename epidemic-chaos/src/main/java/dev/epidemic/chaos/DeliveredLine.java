package dev.epidemic.chaos;

import dev.epidemic.api.Change;
import dev.epidemic.api.Operation;

import java.util.Map;

/**
 * One delivered change as the chaos consumer writes it: tab-separated change id, transaction id,
 * operation letter, row id and row version ({@code \N} for a TRUNCATE), and the time it was received
 * in epoch milliseconds. It is PostgreSQL's COPY text format, so the verdict loads files as they are.
 */
final class DeliveredLine {
    private DeliveredLine() {
    }

    static String of(Change change, long receivedMillis) {
        Map<String, Object> row = change.operation() == Operation.DELETE ? change.oldValues() : change.newValues();
        String id = change.key() == null ? "\\N" : String.valueOf(change.key().get("id"));
        String version = row == null ? "\\N" : String.valueOf(row.get("version"));
        return change.id() + "\t" + change.txid() + "\t" + change.operation().name().charAt(0) + "\t" + id + "\t" + version
                + "\t" + receivedMillis + "\n";
    }

    /** A probe is a row the harness writes, after a fault, to time the consumer's recovery. */
    static boolean isProbe(Change change) {
        return change.key() != null && change.key().get("id") instanceof Number n && n.longValue() < 0;
    }
}
