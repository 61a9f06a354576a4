package dev.epidemic.format;

import dev.epidemic.api.Change;
import dev.epidemic.api.Epidemic;

import java.util.Map;

/** Epidemic's own JSON line, exactly as {@code epidemic tail} has always printed it; the key is the primary key. */
final class EpidemicFormat implements ChangeFormat {
    @Override
    public String name() {
        return "epidemic";
    }

    @Override
    public Message format(Change change) {
        String key = change.key() == null ? null : Jsons.write(change.key(), change.id());
        return new Message(key, value(change), "application/json", Map.of());
    }

    @Override
    public String value(Change change) {
        return Epidemic.toJson(change);
    }
}
