package dev.epidemic.cli;

import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.TransactionalHandler;

import java.sql.Connection;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Handler classes that configurations in the tests name by class, as users name theirs. */
final class TestHandlers {
    private TestHandlers() {
    }

    /** Fails on every change, as a handler whose backing store is down. */
    public static final class AlwaysFailing implements ChangeHandler {
        @Override
        public void onInsert(Change change) {
            throw new IllegalStateException("mailbox store unavailable");
        }
    }

    /** Fails while {@link #failing} is set, records what it handled otherwise. */
    public static final class Switchable implements ChangeHandler {
        static volatile boolean failing = true;
        static final List<Change> handled = new CopyOnWriteArrayList<>();

        @Override
        public void onInsert(Change change) {
            if (failing) {
                throw new IllegalStateException("quota service down for row " + change.key().get("id"));
            }
            handled.add(change);
        }
    }

    /** Does nothing, in the consumer's transaction. */
    public static final class NoopTransactional implements TransactionalHandler {
        @Override
        public void handle(Change change, Connection connection) {
        }
    }
}
