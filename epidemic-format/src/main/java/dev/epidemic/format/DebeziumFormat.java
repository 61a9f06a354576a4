package dev.epidemic.format;

import dev.epidemic.api.Change;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A change as the value of a Debezium PostgreSQL connector's change event with the JSON converter's schemas
 * disabled, so that a consumer written for Debezium reads it unchanged: {@code before}, {@code after},
 * {@code source}, {@code transaction}, {@code op} ({@code c u d r t}) and the processing time
 * {@code ts_ms}/{@code ts_us}/{@code ts_ns}, the fields in Debezium's order. The key is the primary key
 * as an object, typed like the values (see {@link DebeziumValues}).
 *
 * <p>What Epidemic cannot know is null, as Debezium leaves it when it does not know it either:
 * {@code source.sequence}, {@code lsn} and {@code xmin}. {@code source.txId} is the transaction's 32-bit
 * xid, as in Debezium, not Epidemic's epoch-extended txid (they agree until the first xid wraparound).
 */
final class DebeziumFormat implements ChangeFormat {
    private final Supplier<Origin> origin;
    private final ColumnTypes types;
    private final Clock clock;
    private final String version;

    DebeziumFormat(Supplier<Origin> origin, ColumnTypes types, Clock clock) {
        this.origin = origin;
        this.types = types;
        this.clock = clock;
        String implementation = DebeziumFormat.class.getPackage().getImplementationVersion();
        this.version = "epidemic-" + (implementation != null ? implementation : "dev");
    }

    @Override
    public String name() {
        return "debezium";
    }

    @Override
    public Message format(Change change) {
        Map<String, Object> key = DebeziumValues.row(change.key(), change.table(), types);
        return new Message(key == null ? null : Jsons.write(key, change.id()), value(change), "application/json", Map.of());
    }

    @Override
    public String value(Change change) {
        String table = change.table();
        Map<String, Object> envelope = new LinkedHashMap<>();
        envelope.put("before", DebeziumValues.row(change.oldValues(), table, types));
        envelope.put("after", DebeziumValues.row(change.newValues(), table, types));
        envelope.put("source", source(change));
        envelope.put("transaction", null);
        envelope.put("op", op(change));
        Instant now = clock.instant();
        envelope.put("ts_ms", now.toEpochMilli());
        envelope.put("ts_us", ChronoUnit.MICROS.between(Instant.EPOCH, now));
        envelope.put("ts_ns", ChronoUnit.NANOS.between(Instant.EPOCH, now));
        return Jsons.write(envelope, change.id());
    }

    private Map<String, Object> source(Change change) {
        Origin from = origin.get();
        int dot = change.table().indexOf('.');
        Instant at = change.at();
        Map<String, Object> source = new LinkedHashMap<>();
        source.put("version", version);
        source.put("connector", from.connector());
        source.put("name", from.database());
        source.put("ts_ms", at.toEpochMilli());
        source.put("snapshot", change.operation() == dev.epidemic.api.Operation.READ ? "true" : "false");
        source.put("db", from.database());
        source.put("sequence", null);
        source.put("ts_us", ChronoUnit.MICROS.between(Instant.EPOCH, at));
        source.put("ts_ns", ChronoUnit.NANOS.between(Instant.EPOCH, at));
        source.put("schema", change.table().substring(0, dot));
        source.put("table", change.table().substring(dot + 1));
        source.put("txId", from.connector().equals("postgresql") ? change.txid() & 0xffff_ffffL : change.txid());
        source.put("lsn", null);
        source.put("xmin", null);
        source.put("origin", null); // the replication origin of a change that came by logical replication
        source.put("origin_lsn", null);
        return source;
    }

    private static String op(Change change) {
        return switch (change.operation()) {
            case INSERT -> "c";
            case UPDATE -> "u";
            case DELETE -> "d";
            case READ -> "r";
            case TRUNCATE -> "t";
        };
    }
}
