package dev.epidemic.dialect;

/**
 * A consumer's durable position. Every transaction visible in {@code delivered} has been handed over.
 * When {@code window} is set, the changes of the window (delivered, window] up to and including
 * ({@code afterTxLastId}, {@code afterId}) in delivery order have been handed over too.
 *
 * <p>Snapshots are kept in the database's own text form and never interpreted outside the dialect.
 */
public record Position(String delivered, String window, long afterTxLastId, long afterId) {

    public static Position at(String delivered) {
        return new Position(delivered, null, 0, 0);
    }

    /** The position after handing over {@code row}, a change of the window {@code window}. */
    public Position after(String window, LogRow row) {
        return new Position(delivered, window, row.txLastId(), row.id());
    }

    /** The position with {@code window} fixed as the one being delivered, keeping any progress made in it. */
    public Position pinned(String window) {
        return window.equals(this.window) ? this : new Position(delivered, window, 0, 0);
    }

    /** The position once the whole window was handed over. */
    public Position windowDone(String window) {
        return at(window);
    }
}
