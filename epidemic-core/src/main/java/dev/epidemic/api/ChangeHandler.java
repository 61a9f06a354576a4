package dev.epidemic.api;

/**
 * Receives the changes of one watched table. Every method defaults to doing nothing, so a handler
 * implements only what it cares about.
 *
 * <p>Delivery is at least once: a change is handed over again after a crash that came before its
 * position was stored, so handlers should be idempotent (the change {@link Change#id() id} is a
 * natural idempotency key). A method that throws stops the batch: the change is retried and nothing
 * after it is delivered first.
 */
public interface ChangeHandler {
    default void onInsert(Change change) throws Exception {
    }

    default void onUpdate(Change change) throws Exception {
    }

    default void onDelete(Change change) throws Exception {
    }

    default void onTruncate(Change change) throws Exception {
    }

    /**
     * A row that existed before it was changed, read by a backfill ({@code epidemic backfill}, or a new
     * consumer started from a snapshot). The default treats it as an insert, which is right for a handler
     * that builds state: after the backfill its state holds every row. A READ may come after changes to
     * the same row (applied in the order received, the row ends as the table has it).
     */
    default void onRead(Change change) throws Exception {
        onInsert(change);
    }

    /** A handler that treats inserts, updates, deletes, truncates and backfill reads alike, as a sink does. */
    static ChangeHandler forEveryChange(EveryChange action) {
        return new ChangeHandler() {
            @Override
            public void onInsert(Change change) throws Exception {
                action.accept(change);
            }

            @Override
            public void onUpdate(Change change) throws Exception {
                action.accept(change);
            }

            @Override
            public void onDelete(Change change) throws Exception {
                action.accept(change);
            }

            @Override
            public void onTruncate(Change change) throws Exception {
                action.accept(change);
            }

            @Override
            public void onRead(Change change) throws Exception {
                action.accept(change);
            }
        };
    }

    /** What {@link #forEveryChange} does with each change. */
    @FunctionalInterface
    interface EveryChange {
        void accept(Change change) throws Exception;
    }
}
