package dev.epidemic.engine;

import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.Operation;

import java.util.List;
import java.util.Objects;

/**
 * A handler for one table (or, with a null table, for every table the consumer reads) and the columns it
 * cares about; an empty column list means all captured columns.
 */
public record Registration(String table, List<String> columns, ChangeHandler handler) {

    /** Whether this handler wants the change: an UPDATE only if one of its columns changed. */
    boolean wants(Change change) {
        if (change.operation() != Operation.UPDATE || columns.isEmpty()) {
            return true;
        }
        for (String column : columns) {
            if (!Objects.equals(change.oldValues().get(column), change.newValues().get(column))) {
                return true;
            }
        }
        return false;
    }

    void deliver(Change change) throws Exception {
        switch (change.operation()) {
            case INSERT -> handler.onInsert(change);
            case UPDATE -> handler.onUpdate(change);
            case DELETE -> handler.onDelete(change);
            case TRUNCATE -> handler.onTruncate(change);
        }
    }
}
