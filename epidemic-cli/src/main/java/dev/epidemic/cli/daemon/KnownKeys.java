package dev.epidemic.cli.daemon;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds every key of the file that the configuration's records do not have, with its exact path,
 * by walking the parsed tree alongside the record types (maps, such as a handler's properties, take
 * any key).
 */
final class KnownKeys {
    private static final PropertyNamingStrategies.KebabCaseStrategy KEBAB = new PropertyNamingStrategies.KebabCaseStrategy();

    private KnownKeys() {
    }

    static void check(JsonNode node, Type type, String path, Problems problems) {
        if (node == null || node.isNull()) {
            return;
        }
        Class<?> raw = type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
        if (raw.isRecord() && node.isObject()) {
            Map<String, RecordComponent> keys = keysOf(raw);
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                String fieldPath = Problems.join(path, field.getKey());
                RecordComponent component = keys.get(field.getKey());
                if (component == null) {
                    problems.add(fieldPath, "unknown key" + (keys.isEmpty() ? "; it takes none" : "; expected one of " + String.join(", ", keys.keySet())));
                } else {
                    check(field.getValue(), component.getGenericType(), fieldPath, problems);
                }
            }
        } else if (List.class.isAssignableFrom(raw) && node.isArray() && type instanceof ParameterizedType p) {
            for (int i = 0; i < node.size(); i++) {
                check(node.get(i), p.getActualTypeArguments()[0], path + "[" + i + "]", problems);
            }
        }
    }

    /** The record's keys as the file spells them, in the record's order. */
    private static Map<String, RecordComponent> keysOf(Class<?> record) {
        Map<String, RecordComponent> keys = new LinkedHashMap<>();
        for (RecordComponent component : record.getRecordComponents()) {
            JsonProperty renamed = component.getAccessor().getAnnotation(JsonProperty.class);
            if (renamed == null) {
                renamed = component.getAnnotation(JsonProperty.class);
            }
            keys.put(renamed != null ? renamed.value() : KEBAB.translate(component.getName()), component);
        }
        return keys;
    }
}
