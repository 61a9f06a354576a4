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

    /** A handler that treats inserts, updates, deletes and truncates alike, as a sink does. */
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
        };
    }

    /** What {@link #forEveryChange} does with each change. */
    @FunctionalInterface
    interface EveryChange {
        void accept(Change change) throws Exception;
    }
}
