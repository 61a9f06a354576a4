package dev.epidemic.engine;

import dev.epidemic.api.BatchHandler;
import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.FailurePolicy;
import dev.epidemic.api.Operation;
import dev.epidemic.api.TransactionalHandler;

import java.sql.Connection;
import java.sql.Savepoint;
import java.util.List;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * A handler for one table (or, with a null table, for every table the consumer reads), the columns it
 * cares about (empty: all captured columns), its row filter (null: every row) and what to do when it fails.
 *
 * <p>Whatever the kind of handler, the dispatcher hands it a list of changes; {@link #receive} reports
 * how far it got when it fails, so that what was handled is not handed over again while retrying.
 */
public final class Registration {
    private final String table;
    private final List<String> columns;
    private final String where;
    private final FailurePolicy policy;
    private final String label;
    private final Receiver receiver;
    private final boolean transactional;
    private final boolean batch;

    /**
     * Hands a list of changes to the user's handler and returns how many it handled: fewer than all
     * only when {@code stop} turned true on the way. Throws {@link Failure} naming how many were done.
     */
    private interface Receiver {
        int receive(List<Change> changes, Connection transaction, BooleanSupplier stop) throws Failure;
    }

    /** A handler failed after handling {@code done} changes of the list (a batch handler: 0). */
    static final class Failure extends Exception {
        final int done;

        Failure(int done, Throwable cause) {
            super(cause);
            this.done = done;
        }
    }

    private Registration(String table, List<String> columns, String where, FailurePolicy policy, String label, Receiver receiver,
                         boolean transactional, boolean batch) {
        this.table = table;
        this.columns = List.copyOf(columns);
        this.where = where;
        this.policy = policy;
        this.label = label;
        this.receiver = receiver;
        this.transactional = transactional;
        this.batch = batch;
    }

    public static Registration of(String table, List<String> columns, ChangeHandler handler, FailurePolicy policy) {
        return new Registration(table, columns, null, policy, labelOf(handler), (changes, tx, stop) -> {
            for (int i = 0; i < changes.size(); i++) {
                if (stop.getAsBoolean()) {
                    return i;
                }
                try {
                    deliver(handler, changes.get(i));
                } catch (Exception e) {
                    throw new Failure(i, e);
                }
            }
            return changes.size();
        }, false, false);
    }

    public static Registration ofBatches(String table, List<String> columns, BatchHandler handler, FailurePolicy policy) {
        return new Registration(table, columns, null, policy, labelOf(handler), (changes, tx, stop) -> {
            try {
                handler.handle(List.copyOf(changes));
                return changes.size();
            } catch (Exception e) {
                throw new Failure(0, e);
            }
        }, false, true);
    }

    public static Registration inTransaction(String table, List<String> columns, TransactionalHandler handler, FailurePolicy policy) {
        return new Registration(table, columns, null, policy, labelOf(handler), new Receiver() {
            @Override
            public int receive(List<Change> changes, Connection tx, BooleanSupplier stop) throws Failure {
                for (int i = 0; i < changes.size(); i++) {
                    if (stop.getAsBoolean()) {
                        return i;
                    }
                    Savepoint savepoint = null;
                    try {
                        // A savepoint per change: a failing change undoes only its own writes, and the
                        // changes before it commit with the position that passes them.
                        savepoint = tx.setSavepoint();
                        handler.handle(changes.get(i), tx);
                        tx.releaseSavepoint(savepoint);
                    } catch (Exception e) {
                        rollbackTo(tx, savepoint, e);
                        throw new Failure(i, e);
                    }
                }
                return changes.size();
            }
        }, true, false);
    }

    private static void rollbackTo(Connection tx, Savepoint savepoint, Exception failure) {
        if (savepoint == null) {
            return;
        }
        try {
            tx.rollback(savepoint);
        } catch (Exception e) {
            failure.addSuppressed(e);
        }
    }

    /** The same registration with {@code policy} when it was registered without one. */
    public Registration withDefaultPolicy(FailurePolicy policy) {
        if (this.policy != null) {
            return this;
        }
        return new Registration(table, columns, where, policy, label, receiver, transactional, batch);
    }

    /** The same registration, handed only the changes of rows that {@code where} selects (docs/row-filters.md). */
    public Registration withWhere(String where) {
        return new Registration(table, columns, where, policy, label, receiver, transactional, batch);
    }

    public String table() {
        return table;
    }

    /** The row filter, a condition over the table's columns; null: every row. */
    public String where() {
        return where;
    }

    public List<String> columns() {
        return columns;
    }

    FailurePolicy policy() {
        return policy;
    }

    /** Names the handler in dead letters: its class, without the per-run suffix of a lambda. */
    String label() {
        return label;
    }

    /** True when the handler takes changes one at a time (so a failure is one change's), false for a batch handler. */
    boolean perChange() {
        return !batch;
    }

    /** True when the handler runs in the transaction that stores the position. */
    public boolean transactional() {
        return transactional;
    }

    int receive(List<Change> changes, Connection transaction, BooleanSupplier stop) throws Failure {
        return receiver.receive(changes, transaction, stop);
    }

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

    private static void deliver(ChangeHandler handler, Change change) throws Exception {
        switch (change.operation()) {
            case INSERT -> handler.onInsert(change);
            case UPDATE -> handler.onUpdate(change);
            case DELETE -> handler.onDelete(change);
            case TRUNCATE -> handler.onTruncate(change);
            case READ -> handler.onRead(change);
        }
    }

    private static String labelOf(Object handler) {
        String name = handler.getClass().getName();
        int lambda = name.indexOf("$$Lambda");
        return lambda < 0 ? name : name.substring(0, lambda);
    }
}
