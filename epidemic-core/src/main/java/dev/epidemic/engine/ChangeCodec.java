package dev.epidemic.engine;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.epidemic.api.Change;
import dev.epidemic.api.EpidemicException;
import dev.epidemic.api.Operation;
import dev.epidemic.dialect.LogRow;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** Turns log rows into {@link Change}s and changes into the JSON line of the command-line contract. */
public final class ChangeCodec {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN)
            .build();
    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {
    };

    private ChangeCodec() {
    }

    public static Change decode(LogRow row) {
        return new Change(row.id(), row.txid(), row.table(), operation(row.op()), map(row.keyJson()),
                map(row.oldJson()), map(row.newJson()), row.at());
    }

    private static Operation operation(char op) {
        return switch (op) {
            case 'I' -> Operation.INSERT;
            case 'U' -> Operation.UPDATE;
            case 'D' -> Operation.DELETE;
            case 'T' -> Operation.TRUNCATE;
            case 'R' -> Operation.READ;
            default -> throw new EpidemicException("unknown operation code '" + op + "' in the change log");
        };
    }

    private static Map<String, Object> map(String json) {
        if (json == null) {
            return null;
        }
        try {
            return Collections.unmodifiableMap(JSON.readValue(json, MAP));
        } catch (JsonProcessingException e) {
            throw new EpidemicException("unreadable JSON in the change log: " + e.getOriginalMessage(), e);
        }
    }

    /** The change as one JSON object: id, txid, table, op, key, old, new, at (ISO-8601). */
    public static String toJson(Change change) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", change.id());
        out.put("txid", change.txid());
        out.put("table", change.table());
        out.put("op", change.operation().name());
        out.put("key", change.key());
        out.put("old", change.oldValues());
        out.put("new", change.newValues());
        out.put("at", change.at().toString());
        try {
            return JSON.writeValueAsString(out);
        } catch (JsonProcessingException e) {
            throw new EpidemicException("cannot render change " + change.id() + " as JSON", e);
        }
    }
}
